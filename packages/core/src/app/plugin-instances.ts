import type { Logger } from 'pino';
import type { ComponentNode } from '../container/component-graph.js';
import { createRedactor } from '../internal/redact.js';
import type { PluginDeclaration } from '../plugin/define-plugin.js';
import { PluginAvailability } from '../plugin/plugin-availability.js';
import type { PluginHost } from './plugin-host.js';
import type { PluginSettings, ResolvedAppSettings } from './resolved-settings.js';

/** A built plugin instance with what the lifecycle needs to drive it. */
export interface BuiltPlugin {
  readonly declaration: PluginDeclaration;
  readonly instance: object;
  readonly availability: PluginAvailability;
  readonly settings: PluginSettings;
  /** Hides its own and the app's sensitive values. */
  readonly redact: (text: string) => string;
}

/** Calls each declared plugin's `create` with its context. No I/O happens here. */
export function instantiatePlugins(
  graph: readonly ComponentNode[],
  settings: ResolvedAppSettings,
  appName: string,
  logger: Logger,
  host: PluginHost,
): Map<string, BuiltPlugin> {
  const built = new Map<string, BuiltPlugin>();
  for (const node of graph) {
    if (node.kind !== 'plugin') continue;
    const { plugin } = node;
    const own = settings.plugins.get(plugin.prefix) as PluginSettings;
    const redact = createRedactor([...own.secrets, ...settings.appSecrets]);
    const availability = new PluginAvailability(plugin.type, plugin.prefix);
    const instance = plugin.instantiate({
      appName,
      type: plugin.type,
      prefix: plugin.prefix,
      config: own.own,
      options: undefined,
      logger: logger.child({ plugin: plugin.type, prefix: plugin.prefix }),
      availability,
      redact,
      app: host,
      embedded: own.embedded,
    });
    built.set(plugin.prefix, { declaration: plugin, instance, availability, settings: own, redact });
  }
  return built;
}
