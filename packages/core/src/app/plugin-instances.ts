import type { Logger } from 'pino';
import type { ComponentNode } from '../container/component-graph.js';
import { embeddedNotice } from '../config/embedded.js';
import { envName, toEnvSegment } from '../config/env-names.js';
import { createRedactor } from '../internal/redact.js';
import type { PluginDeclaration } from '../plugin/define-plugin.js';
import { PluginAvailability } from '../plugin/plugin-availability.js';
import type { PluginMetrics } from '../metrics/plugin-metrics.js';
import type { BreakerBoard } from '../resilience/breaker-board.js';
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

/** What the app gives each plugin instance besides its host. */
export interface PluginServices {
  readonly metrics: (pluginType: string, prefix: string) => PluginMetrics;
  readonly breakers: BreakerBoard;
}

/** Calls each declared plugin's `create` with its context. No I/O happens here. */
export function instantiatePlugins(
  graph: readonly ComponentNode[],
  settings: ResolvedAppSettings,
  appName: string,
  logger: Logger,
  host: PluginHost,
  services: PluginServices,
): Map<string, BuiltPlugin> {
  const built = new Map<string, BuiltPlugin>();
  for (const node of graph) {
    if (node.kind !== 'plugin') continue;
    const { plugin } = node;
    const own = settings.plugins.get(plugin.prefix) as PluginSettings;
    const redact = createRedactor([...own.secrets, ...settings.appSecrets]);
    const availability = new PluginAvailability(plugin.type, plugin.prefix);
    const pluginLogger = logger.child({ plugin: plugin.type, prefix: plugin.prefix });
    const metrics = services.metrics(plugin.type, plugin.prefix);
    const owner = { type: plugin.type, prefix: plugin.prefix, logger: pluginLogger, metrics };
    const build = own.enabled ? plugin.instantiate : (plugin.instantiateNoop as NonNullable<PluginDeclaration['instantiateNoop']>);
    if (!own.enabled) {
      const variable = envName(toEnvSegment(appName), plugin.prefix, 'enabled');
      // Calls that need the real thing fail with this reason (a broker refuses to publish).
      availability.markUnavailable(`turned off (${variable}=false)`);
      logger.info({ plugin: plugin.type, prefix: plugin.prefix, disabled: true }, `${plugin.type} plugin "${plugin.prefix}" is turned off (${variable}=false): it runs its no-op implementation`);
    }
    const instance = build({
      appName,
      type: plugin.type,
      prefix: plugin.prefix,
      settings: own.own,
      options: undefined,
      logger: pluginLogger,
      availability,
      metrics,
      breaker: (name, options) => services.breakers.create(owner, name, options),
      redact,
      app: host,
      embedded: own.embedded,
      // Graph order puts every dependency first, so each is built by now.
      dependencies: Object.freeze(Object.fromEntries((plugin.common.dependsOn ?? []).map((p) => [p, built.get(p)?.instance as object]))),
    });
    // A fallback allowed in production is a harmless default (error tracking off), not a possible accident.
    if (plugin.embedded && own.embedded && !plugin.embedded.allowedInProduction) announceEmbedded(logger, plugin, instance, envName(toEnvSegment(appName), plugin.prefix));
    built.set(plugin.prefix, { declaration: plugin, instance, availability, settings: own, redact });
  }
  return built;
}

/** The one line every plugin running its embedded fallback gets, so nobody runs one by accident unnoticed. */
function announceEmbedded(logger: Logger, plugin: PluginDeclaration, instance: object, envPrefix: string): void {
  const target: unknown = (instance as { target?: unknown }).target;
  const fallback = plugin.embedded as NonNullable<PluginDeclaration['embedded']>;
  logger.warn({ plugin: plugin.type, prefix: plugin.prefix, embedded: true }, embeddedNotice(plugin.prefix, typeof target === 'string' ? target : undefined, envPrefix, fallback));
}
