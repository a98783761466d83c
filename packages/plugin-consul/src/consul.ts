import { definePlugin, PLUGIN_API_VERSION } from '@plinth/core';
import { ConsulPlugin } from './consul-plugin.js';
import { consulSettings } from './settings.js';

/**
 * Declares a Consul instance: `consul('service_registry')`. Non-critical by default: with
 * the agent down the app serves `degraded`, and registers and watches once it is back.
 * With no `URL` it runs on an in-process registry.
 */
export const consul = definePlugin<typeof consulSettings, ConsulPlugin>({
  type: 'consul',
  pluginApi: `^${PLUGIN_API_VERSION}`,
  critical: false,
  settings: consulSettings,
  embedded: { serverSetting: 'url' },
  create: (ctx) => new ConsulPlugin(ctx),
});
