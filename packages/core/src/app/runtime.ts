import type { Logger } from 'pino';
import type { EnvSource } from '../config/load-settings.js';
import type { SettingsSchema } from '../config/setting.js';
import type { SettingsGroup } from '../config/settings-group.js';
import { buildContainer } from '../container/build-container.js';
import { pluginsOf, type ComponentNode, type ServiceClass } from '../container/component-graph.js';
import type { InjectionToken } from '../internal/injection-metadata.js';
import { createRedactor } from '../internal/redact.js';
import type { BackoffOptions } from '../lifecycle/backoff.js';
import { DEFAULT_TIMEOUTS, type HookTimeouts, type LifecycleComponent } from '../lifecycle/component.js';
import { Orchestrator } from '../lifecycle/orchestrator.js';
import type { AppEventEmitter } from '../lifecycle/typed-emitter.js';
import { createLogger } from '../logging/logger.js';
import type { DestinationStream } from 'pino';
import { APP, APP_SETTINGS, LOGGER } from '../tokens.js';
import { buildComponents } from './components.js';
import type { ErrorChannel } from './error-channel.js';
import { logLifecycleEvent } from './lifecycle-log.js';
import type { PluginHost } from './plugin-host.js';
import { instantiatePlugins, type BuiltPlugin, type PluginServices } from './plugin-instances.js';
import { allSecrets, resolveAppSettings, type CoreSettings, type ResolvedAppSettings } from './resolved-settings.js';

/** Everything an app is made of once `start()` has loaded its settings and built its components. */
export interface AppRuntime {
  readonly logger: Logger;
  readonly core: CoreSettings;
  readonly settings: ResolvedAppSettings;
  readonly plugins: ReadonlyMap<string, object>;
  readonly components: readonly LifecycleComponent[];
  readonly orchestrator: Orchestrator;
  get(token: InjectionToken): unknown;
}

export interface RuntimeInput {
  readonly name: string;
  readonly envPrefix: string;
  readonly graph: readonly ComponentNode[];
  readonly groups: readonly SettingsGroup[];
  readonly appSchema: SettingsSchema;
  readonly env: EnvSource;
  readonly logDestination: DestinationStream | undefined;
  readonly serviceTimeouts: Partial<HookTimeouts> | undefined;
  readonly overrides: ReadonlyMap<ServiceClass, object> | undefined;
  readonly retryBackoff: BackoffOptions | undefined;
  readonly recoveryBackoff: BackoffOptions | undefined;
  /** The app itself, injectable as `APP`. */
  readonly app: object;
  readonly appSignal: () => AbortSignal;
  readonly events: AppEventEmitter;
  readonly errors: ErrorChannel;
  /** The plugins' view of the app, once settings and the app-wide redactor exist. */
  readonly pluginHost: (settings: ResolvedAppSettings, redact: (text: string) => string) => PluginHost;
  readonly pluginServices: (settings: ResolvedAppSettings) => PluginServices;
}

/** Loads settings (throws ConfigError), then builds the logger, plugins, services, components and orchestrator. */
export function createRuntime(input: RuntimeInput): AppRuntime {
  const settings = resolveAppSettings({
    appName: input.name,
    envPrefix: input.envPrefix,
    groups: input.groups,
    appSchema: input.appSchema,
    plugins: pluginsOf(input.graph),
    env: input.env,
  });
  const logger = createLogger(input.name, settings.core.logLevel, input.logDestination, settings.core.logRedact);
  for (const warning of settings.warnings) logger.warn(warning);
  const redactAll = createRedactor(allSecrets(settings));
  // The plugins' host and services (breakers, metrics) are built only for an app that has plugins.
  const plugins = settings.plugins.size > 0
    ? instantiatePlugins(input.graph, settings, input.name, logger, input.pluginHost(settings, redactAll), input.pluginServices(settings))
    : new Map<string, BuiltPlugin>();
  const pluginInstances = new Map([...plugins].map(([prefix, plugin]) => [prefix, plugin.instance]));
  const { get, instances } = buildContainer(
    input.graph,
    pluginInstances,
    new Map<symbol, unknown>([[APP, input.app], [APP_SETTINGS, settings.app], [LOGGER, logger]]),
    input.overrides,
  );
  const components = buildComponents(input.graph, instances, plugins, { ...DEFAULT_TIMEOUTS, ...input.serviceTimeouts }, redactAll);
  const orchestrator = new Orchestrator(components, {
    appSignal: input.appSignal,
    emit: (event) => {
      input.events.emit('lifecycle', event);
      logLifecycleEvent(logger, event);
    },
    retryBackoff: input.retryBackoff ?? { initialDelayMs: 100, maxDelayMs: 3_000 },
    recoveryBackoff: input.recoveryBackoff ?? { initialDelayMs: 500, maxDelayMs: 15_000 },
    reportError: (error, context) => input.errors.report(error, context),
  });
  return {
    logger,
    core: settings.core,
    settings,
    plugins: pluginInstances,
    components,
    orchestrator,
    get,
  };
}
