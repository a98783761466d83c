import type { Logger } from 'pino';
import type { PluginHost } from '../app/plugin-host.js';
import { serverSettingsOf, type EmbeddedFallback } from '../config/embedded.js';
import { GraphValidationError, PlinthError } from '../errors.js';
import type { SettingsOf, SettingProblem, SettingsSchema } from '../config/setting.js';
import type { PluginMetrics } from '../metrics/plugin-metrics.js';
import type { Breaker, BreakerOptions } from '../resilience/breaker.js';
import type { PluginAvailability } from './plugin-availability.js';
import { PLUGIN_FACTORY } from './plugin-api.js';

/** What a plugin's `create` receives. Building an instance must do no I/O. */
export interface PluginContext<TSettings, TOptions> {
  readonly appName: string;
  readonly type: string;
  readonly prefix: string;
  /** Resolved settings: schema default < code option < env. */
  readonly settings: TSettings;
  /** Code-only options of the plugin (schema, topology…), without the common ones. */
  readonly options: TOptions;
  /** Logs with `plugin` and `prefix` on every line. */
  readonly logger: Logger;
  /** Mark outages and recoveries; guard API calls with `assertAvailable()`. */
  readonly availability: PluginAvailability;
  /**
   * Metrics on the app's registry, every sample labelled `plugin` (this type) and `prefix`
   * (this instance). No-ops when `{APP}_METRICS=false`.
   */
  readonly metrics: PluginMetrics;
  /**
   * A circuit breaker named `name` (one per call) for calls to a dependency that can be slow:
   * it is in `/health` (a non-critical check down while open: `degraded`), in metrics
   * (`plinth_breaker_*`) and in lifecycle events (`phase: 'breaker'`).
   */
  breaker(name: string, options: BreakerOptions): Breaker;
  /** Replaces every sensitive setting's value in `text` (and URL passwords) with `<redacted>`. */
  redact(text: string): string;
  /** The app: its state, events, HTTP address, shutdown and exit steps, and error channel. */
  readonly app: PluginHost;
  /** Whether this instance runs its embedded fallback (see `PluginDefinition.embedded`). */
  readonly embedded: boolean;
  /**
   * The instances of the plugins named in `dependsOn`, by prefix: a plugin built on
   * others (an outbox relay on a database and a broker) reaches them here. They are
   * built already, and start before this plugin and stop after it.
   */
  readonly dependencies: Readonly<Record<string, object>>;
}

/** What a plugin author implements. The instance may implement PreStart/OnStart/OnStop/HealthCheck. */
export interface PluginDefinition<S extends SettingsSchema, TInstance extends object, TOptions extends object> {
  /** The plugin type, e.g. `postgres`. */
  readonly type: string;
  /**
   * The versions of core's plugin API it works with, as a semver range (`^1.0.0`); compared
   * with `PLUGIN_API_VERSION` when the plugin is loaded by name (`{APP}_{PREFIX}_MODULE`),
   * where it is required.
   */
  readonly pluginApi?: string;
  /** Default policy: critical plugins fail startup, non-critical ones degrade. */
  readonly critical: boolean;
  /** Settings read from `{APP}_{PREFIX}_{SETTING}`. */
  readonly settings: S;
  create(ctx: PluginContext<SettingsOf<S>, TOptions>): TInstance;
  /**
   * The no-op implementation an instance declared `optional` runs when
   * `{APP}_{PREFIX}_ENABLED=false`: same API, no I/O (a cache that always misses). Core runs
   * none of its hooks and marks `ctx.availability` unavailable with the reason, so calls that
   * assert availability refuse clearly. Env is not read: `ctx.settings` holds the defaults.
   */
  noop?(ctx: PluginContext<SettingsOf<S>, TOptions>): TInstance;
  /** Optional: checks code options at declaration time, before any I/O. */
  validateOptions?(options: TOptions): void;
  /** `'first'`: starts before every other component and stops after all of them (error tracking). */
  readonly order?: 'first';
  /**
   * Optional: checks that span settings (a URL's path, two values that must agree). Runs
   * while config loads, once each setting parsed, so its problems are reported together
   * with every other config problem, named by env var.
   */
  validateSettings?(settings: SettingsOf<S>): readonly SettingProblem<keyof S & string>[];
  /**
   * The plugin has an embedded fallback used when its server setting is empty. Core adds
   * an `EMBEDDED` boolean setting and decides `ctx.embedded`:
   * - a server setting is set → not embedded (`EMBEDDED=true` as well is a config error);
   * - none is set, and not production, or `EMBEDDED=true`, or `allowedInProduction` → embedded;
   * - none is set in production otherwise → a config error naming `{APP}_{PREFIX}_{SERVER_SETTING}`.
   * The startup log and `/health` say which plugins run embedded.
   */
  readonly embedded?: EmbeddedFallback;
}

/** Options every plugin instance accepts in code. Env overrides each of them. */
export interface CommonPluginOptions<S extends SettingsSchema> {
  readonly critical?: boolean;
  /** Setting defaults for this instance; env still overrides them. */
  readonly settings?: Partial<SettingsOf<S>>;
  /** preStart deadline in ms (default 30 000). */
  readonly startTimeout?: number;
  /** onStart deadline in ms (default 10 000). */
  readonly onStartTimeout?: number;
  /** onStop deadline in ms (default 10 000). */
  readonly stopTimeout?: number;
  /** Health check timeout in ms (default 1 000). */
  readonly healthTimeout?: number;
  /** Prefixes of plugins that must start before this one (and stop after it). */
  readonly dependsOn?: readonly string[];
  /**
   * Operators may turn it off with `{APP}_{PREFIX}_ENABLED=false`: injection then gives the
   * definition's no-op implementation, nothing connects, and `/health` lists it as
   * `disabled`. Only plugins whose definition has a `noop` can be optional.
   */
  readonly optional?: boolean;
  /** The default of `{APP}_{PREFIX}_ENABLED` for an optional plugin (true): false makes it off until an operator turns it on. */
  readonly enabled?: boolean;
}

/** One declared plugin instance, as passed to `createApp({ plugins })`. */
export interface PluginDeclaration<TInstance extends object = object> {
  readonly kind: 'plugin';
  readonly type: string;
  readonly prefix: string;
  readonly settings: SettingsSchema;
  readonly common: CommonPluginOptions<SettingsSchema>;
  readonly defaultCritical: boolean;
  /** The plugin API range its definition supports, if it declares one. */
  readonly pluginApi: string | undefined;
  /** Every option it was declared with, so an implementation loaded by name is declared the same way. */
  readonly options: Readonly<Record<string, unknown>>;
  readonly order: 'first' | undefined;
  readonly embedded: EmbeddedFallback | undefined;
  readonly validateSettings: ((settings: Readonly<Record<string, unknown>>) => readonly SettingProblem[]) | undefined;
  /** Builds the instance; called once by the app during init. */
  readonly instantiate: (ctx: PluginContext<Readonly<Record<string, unknown>>, unknown>) => TInstance;
  /** Builds the no-op instance of an optional plugin turned off. */
  readonly instantiateNoop: ((ctx: PluginContext<Readonly<Record<string, unknown>>, unknown>) => TInstance) | undefined;
}

// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- "has no required keys"
type OptionsArg<S extends SettingsSchema, O extends object> = {} extends O
  ? [options?: CommonPluginOptions<S> & O]
  : [options: CommonPluginOptions<S> & O];

/**
 * Turns a declared instance into the one a test runs: `createTestApp(options, { plugins:
 * { session_cache: redis.embedded() } })`. Code options (schema, migrations, topology) stay.
 */
export type PluginDouble = (declared: PluginDeclaration) => PluginDeclaration;

export type PluginFactory<S extends SettingsSchema, TInstance extends object, TOptions extends object> = ((
  prefix: string,
  ...options: OptionsArg<S, TOptions>
) => PluginDeclaration<TInstance>) & {
  /**
   * A ready test double: the declared instance on its embedded fallback whatever the env
   * says, with `settings` as its setting defaults. Throws for a plugin without a fallback.
   */
  embedded(settings?: Partial<SettingsOf<S>>): PluginDouble;
  /** The plugin type it declares. */
  readonly type: string;
  /** The plugin API range its definition supports. */
  readonly pluginApi: string | undefined;
  readonly [PLUGIN_FACTORY]: true;
};

const COMMON_KEYS = ['critical', 'settings', 'startTimeout', 'onStartTimeout', 'stopTimeout', 'healthTimeout', 'dependsOn', 'optional', 'enabled'] as const;

/**
 * Declares a plugin type and returns its factory:
 *
 * ```ts
 * export const postgres = definePlugin({ type: 'postgres', critical: true, settings, create: (ctx) => new PostgresPlugin(ctx) });
 * createApp({ name: 'user-service', plugins: [postgres('primary_db')] });
 * ```
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- plugins without code options
export function definePlugin<S extends SettingsSchema, TInstance extends object, TOptions extends object = {}>(
  definition: PluginDefinition<S, TInstance, TOptions>,
): PluginFactory<S, TInstance, TOptions> {
  const declare = (prefix: string, ...rest: OptionsArg<S, TOptions>): PluginDeclaration<TInstance> => {
    const all = (rest[0] ?? {}) as CommonPluginOptions<S> & TOptions;
    const common: Record<string, unknown> = {};
    const own: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(all)) {
      ((COMMON_KEYS as readonly string[]).includes(key) ? common : own)[key] = value;
    }
    definition.validateOptions?.(own as TOptions);
    if (common['enabled'] !== undefined && common['optional'] !== true) {
      throw new GraphValidationError('NOT_OPTIONAL', `${definition.type} plugin "${prefix}" has an enabled default but is not declared optional: add optional: true`);
    }
    if (common['optional'] === true && !definition.noop) {
      throw new GraphValidationError('NOT_OPTIONAL', `${definition.type} plugin "${prefix}" is declared optional, but the ${definition.type} plugin has no no-op implementation to run when it is turned off`);
    }
    const { noop } = definition;
    return {
      kind: 'plugin',
      type: definition.type,
      prefix,
      settings: definition.settings,
      common: common as CommonPluginOptions<SettingsSchema>,
      defaultCritical: definition.critical,
      pluginApi: definition.pluginApi,
      options: Object.freeze({ ...all }),
      order: definition.order,
      embedded: definition.embedded,
      validateSettings: definition.validateSettings && ((settings) => definition.validateSettings?.(settings as SettingsOf<S>) ?? []),
      instantiate: (ctx) =>
        definition.create({ ...ctx, settings: ctx.settings as SettingsOf<S>, options: own as TOptions }),
      instantiateNoop: noop && ((ctx) => noop({ ...ctx, settings: ctx.settings as SettingsOf<S>, options: own as TOptions })),
    };
  };
  return Object.assign(declare, {
    embedded: (settings?: Partial<SettingsOf<S>>) => embeddedDouble(definition.type, definition.embedded, settings),
    type: definition.type,
    pluginApi: definition.pluginApi,
    [PLUGIN_FACTORY]: true as const,
  });
}

function embeddedDouble(type: string, fallback: EmbeddedFallback | undefined, settings: object = {}): PluginDouble {
  if (fallback === undefined) {
    throw new PlinthError(`the ${type} plugin has no embedded mode to use as a test double: replace it with an object instead`);
  }
  const noServer = Object.fromEntries(serverSettingsOf(fallback).map((key) => [key, undefined]));
  return (declared) => ({
    ...declared,
    common: { ...declared.common, settings: { ...declared.common.settings, ...settings, ...noServer, embedded: true } },
  });
}
