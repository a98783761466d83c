import { definePlugin, PLUGIN_API_VERSION } from '@plinth/core';
import { SentryPlugin, type SentryPluginOptions } from './sentry-plugin.js';
import { sentrySettings } from './settings.js';

/**
 * Declares the app's error tracker: `sentry('error_tracking')`. Off (sends nothing, opens
 * no socket) until `{APP}_{PREFIX}_DSN` is set. Non-critical; starts before every other
 * component and stops after all of them.
 */
export const sentry = definePlugin<typeof sentrySettings, SentryPlugin, SentryPluginOptions>({
  type: 'sentry',
  pluginApi: `^${PLUGIN_API_VERSION}`,
  critical: false,
  order: 'first',
  // No DSN is the embedded default (reporting off), in production too.
  embedded: { serverSetting: 'dsn', allowedInProduction: true },
  settings: sentrySettings,
  create: (ctx) => new SentryPlugin(ctx),
  // Declared `optional: true` and turned off: reporting off, every event dropped.
  noop: (ctx) => new SentryPlugin(ctx, true),
  validateOptions(options) {
    for (const hook of ['beforeSend', 'beforeBreadcrumb'] as const) {
      if (options[hook] !== undefined && typeof options[hook] !== 'function') throw new TypeError(`sentry ${hook} must be a function`);
    }
  },
});
