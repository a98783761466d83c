import type { RequestListener, Server as HttpServer } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { DestinationStream, Logger } from 'pino';
import type { Registry } from 'prom-client';
import { describeSettings, type ConfigEntry } from '../config/describe-config.js';
import { envName, toEnvSegment } from '../config/env-names.js';
import { embeddedNotice } from '../config/embedded.js';
import { isProduction } from '../config/environment.js';
import { loadSettings, type EnvSource } from '../config/load-settings.js';
import type { ConfigOf, SettingsSchema } from '../config/setting.js';
import { groupSchema, type SettingsGroup } from '../config/settings-group.js';
import { buildComponentGraph, type ComponentNode, type ServiceClass } from '../container/component-graph.js';
import { buildContainer } from '../container/build-container.js';
import { GraphValidationError, PlinthError, StartupAbortedError, StartupError } from '../errors.js';
import type { HealthMonitor } from '../health/health-monitor.js';
import { AppHttp } from '../http/app-http.js';
import type { AttachHttpServerOptions, HttpServerSource } from '../http/attached-server.js';
import { portOf, serveHttp, type ServeHttpOptions } from '../http/serve-http.js';
import { serviceOptionsOf, type InjectionToken } from '../internal/injection-metadata.js';
import { createRedactor } from '../internal/redact.js';
import { DEFAULT_TIMEOUTS, type HookTimeouts, type LifecycleComponent } from '../lifecycle/component.js';
import type { AppState, LifecycleEvent, StateChange } from '../lifecycle/events.js';
import { Orchestrator, type BackoffOptions, type StopReport } from '../lifecycle/orchestrator.js';
import { AppEventEmitter, type AppEvents } from '../lifecycle/typed-emitter.js';
import { createLogger } from '../logging/logger.js';
import type { PluginDeclaration } from '../plugin/define-plugin.js';
import { PluginAvailability } from '../plugin/plugin-availability.js';
import type { PluginOf, PluginPrefix } from '../plugin/plugin-registry.js';
import { APP, APP_SETTINGS, LOGGER } from '../tokens.js';
import { coreSettings, pluginLifecycleSettings } from './core-settings.js';
import { runBoundedSteps, type BoundedStep } from '../lifecycle/bounded-steps.js';
import { routePrefix } from '../http/route-handler.js';
import { serveHealth } from '../health/health-server.js';
import { buildPluginHost } from './build-plugin-host.js';
import { detectEnvironment } from './environment.js';
import { ErrorChannel } from './error-channel.js';
import type { PluginHost } from './plugin-host.js';
import { runProcess, type ProcessHost, type RunOptions } from './run-process.js';
import { summarizeStartup } from './startup-summary.js';

export interface AppOptions<S extends SettingsSchema = SettingsSchema> {
  /** Service name, e.g. `user-service`; env vars start with `USER_SERVICE_`. */
  readonly name: string;
  /** The service's version (its package version), printed by `--version` and given to plugins. */
  readonly version?: string;
  readonly plugins?: readonly PluginDeclaration[];
  readonly services?: readonly ServiceClass[];
  /**
   * Instances used in place of listed services (tests): the class stays the injection
   * token, the given object is what gets injected, and its own injections are not built.
   */
  readonly overrides?: ReadonlyMap<ServiceClass, object>;
  /** The app's own settings, read from `{APP}_{SETTING}`; inject them with `@Inject(APP_SETTINGS)`. */
  readonly settings?: S;
  /** Where config is read from; `process.env` by default. */
  readonly env?: EnvSource;
  /** Where logs go; stdout by default. */
  readonly logDestination?: DestinationStream;
  /** Default hook deadlines of services (plugins have their own settings). */
  readonly timeouts?: Partial<HookTimeouts>;
  /** Backoff between attempts of a critical preStart. */
  readonly retryBackoff?: BackoffOptions;
  /** Backoff between background reconnects of a degraded non-critical plugin. */
  readonly recoveryBackoff?: BackoffOptions;
}

export type CoreConfig = ConfigOf<typeof coreSettings>;

interface Initialized {
  readonly logger: Logger;
  readonly core: CoreConfig;
  readonly settings: Readonly<Record<string, unknown>>;
  readonly instances: ReadonlyMap<string, object>;
  readonly components: readonly LifecycleComponent[];
  readonly orchestrator: Orchestrator;
  readonly get: <T>(token: InjectionToken) => T;
}

/** A drain step run when shutdown begins, before components stop (probes, HTTP servers). */
export type ShutdownStep = (signal: AbortSignal) => Promise<void>;

/** A step run by `start()` once config is loaded and components are built, before any preStart. */
export type StartupStep = (signal: AbortSignal) => Promise<void>;

const RESERVED_PLUGIN_KEYS = [...Object.keys(pluginLifecycleSettings(
  { critical: true, startTimeout: 0, onStartTimeout: 0, stopTimeout: 0, healthTimeout: 0 })), 'embedded'];

/** One service process. Create it with `createApp`. */
export class App<S extends SettingsSchema = SettingsSchema> {
  readonly name: string;
  readonly envPrefix: string;
  readonly #options: AppOptions<S>;
  readonly #graph: readonly ComponentNode[];
  readonly #groups: readonly SettingsGroup[];
  readonly #events = new AppEventEmitter();
  readonly #appAbort = new AbortController();
  readonly #startupAbort = new AbortController();
  readonly #drainSteps: ShutdownStep[] = [];
  readonly #startupSteps: StartupStep[] = [];
  readonly #errors = new ErrorChannel();
  readonly #firstShutdownSteps: BoundedStep[] = [];
  readonly #pluginShutdownSteps: BoundedStep[] = [];
  readonly #exitSteps: BoundedStep[] = [];
  readonly #http: AppHttp;
  #state: AppState = 'created';
  #init: Initialized | undefined;
  #starting: Promise<void> | undefined;
  #stopping: Promise<StopReport> | undefined;

  constructor(options: AppOptions<S>) {
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- getters of the HTTP side read the app
    const app = this;
    if (!/^[a-z][a-z0-9-]*$/.test(options.name)) {
      throw new GraphValidationError('INVALID_PREFIX', `App name "${options.name}" is invalid: use lower kebab case such as "user-service"`);
    }
    this.name = options.name;
    this.envPrefix = toEnvSegment(options.name);
    this.#options = options;
    this.#graph = buildComponentGraph(options.plugins ?? [], options.services ?? [], [APP, APP_SETTINGS, LOGGER], options.overrides);
    this.#groups = this.#settingsGroups();
    this.#http = new AppHttp({
      name: this.name,
      get state() {
        return app.state;
      },
      get logger() {
        return app.logger;
      },
      get coreConfig() {
        return app.coreConfig;
      },
      components: () => this.components(),
      on: (event, listener) => this.on(event, listener),
      addShutdownStep: (step) => this.addShutdownStep(step),
      reportError: (error, context) => this.#errors.report(error, context),
    }, this);
  }

  get state(): AppState {
    return this.#state;
  }

  /** Aborts when shutdown begins. */
  get signal(): AbortSignal {
    return this.#appAbort.signal;
  }

  /** The root logger; available once `start()` has loaded config. */
  get logger(): Logger {
    return this.#initialized().logger;
  }

  /** The app's own settings (from `createApp({ settings })`), resolved. */
  get settings(): ConfigOf<S> {
    return this.#initialized().settings as ConfigOf<S>;
  }

  /** Core settings (log level, shutdown budget, health) resolved. */
  get coreConfig(): CoreConfig {
    return this.#initialized().core;
  }

  on<K extends keyof AppEvents>(event: K, listener: (payload: AppEvents[K]) => void): () => void {
    return this.#events.on(event, listener);
  }

  /** Every env var the app reads, with default, required, sensitive and description. */
  describeConfig(): ConfigEntry[] {
    return describeSettings(this.#groups);
  }

  /** The plugin instance declared with this prefix. */
  plugin<K extends PluginPrefix>(prefix: K): PluginOf<K> {
    const instance = this.#initialized().instances.get(prefix);
    if (instance === undefined || !this.#graph.some((n) => n.kind === 'plugin' && n.id === prefix)) {
      throw new PlinthError(`No plugin is declared with prefix "${prefix}"`);
    }
    return instance as PluginOf<K>;
  }

  /** A service (by class) or a built-in value (by token). */
  get<T>(token: InjectionToken): T {
    return this.#initialized().get<T>(token);
  }

  /** Components in start order, for health and metrics. */
  components(): readonly LifecycleComponent[] {
    return this.#initialized().components;
  }

  /**
   * Adds a step to run when shutdown begins, after readiness flips to 503 and before any
   * component stops: how HTTP servers drain.
   */
  addShutdownStep(step: ShutdownStep): void {
    this.#drainSteps.push(step);
  }

  /**
   * Adds a step that `start()` runs once config is loaded and components are built, before
   * any preStart: how `run()` opens the health server while the app is still starting.
   * A step that throws fails startup.
   */
  addStartupStep(step: StartupStep): void {
    this.#startupSteps.push(step);
  }

  /**
   * Hands a service's HTTP server to the app (a node `http.Server`, or a fastify instance):
   * the probes and `/metrics` are served on it (under `{APP}_HEALTH_PATH`), and on shutdown
   * the app drains it: it stops listening after the shutdown delay, lets in-flight requests
   * finish, and closes keep-alive connections without resetting any. The app owns its
   * closing from then on; attach it before it starts listening.
   */
  attachHttpServer(server: HttpServerSource, options?: AttachHttpServerOptions): void {
    this.#http.attach(server, options);
  }

  /**
   * Serves a request listener (an express or koa app, a plain handler) on a new server that
   * is attached as by `attachHttpServer`; resolves once it listens. Call it from a service's
   * onStart: `await app.serveHttp(expressApp, { port: 3000 })`.
   */
  async serveHttp(handler: RequestListener, options: ServeHttpOptions): Promise<HttpServer> {
    const server = await serveHttp((s, o) => this.attachHttpServer(s, o), handler, options);
    this.#init?.logger.info({ port: portOf(server) }, `HTTP server listening on :${portOf(server)}`);
    return server;
  }

  /** The health checks behind the probes: `await app.health.report()`. */
  get health(): HealthMonitor {
    return this.#http.health;
  }

  /** The app's own Prometheus registry (served at `/metrics`); register your metrics on it. */
  get metrics(): Registry {
    return this.#http.metrics;
  }

  /**
   * Loads config (throws ConfigError listing every bad env var), builds plugins and
   * services, then runs preStart and onStart. Rejects after rolling back on a critical
   * failure. Idempotent.
   */
  start(): Promise<void> {
    this.#starting ??= this.#start();
    return this.#starting;
  }

  /**
   * Graceful shutdown: readiness drops, drain steps run, components stop in reverse
   * dependency order. During startup it aborts startup and rolls back. Idempotent: every
   * caller awaits the same shutdown.
   */
  stop(reason = 'stop requested'): Promise<StopReport> {
    if (this.#stopping) return this.#stopping;
    // Record the shutdown before it starts: it aborts `app.signal` synchronously, and an
    // abort listener that calls stop() must join this shutdown, not begin a second one.
    // It still begins synchronously, so readiness reads draining the moment stop() returns.
    let settle!: (report: Promise<StopReport>) => void;
    this.#stopping = new Promise<StopReport>((resolve) => (settle = resolve));
    settle(this.#stop(reason));
    return this.#stopping;
  }

  /**
   * Runs the app as the process: `--help`, signals, exit codes (0 clean, 1 failure,
   * 78 bad config). Resolves never: the process exits when the app has stopped.
   */
  run(options?: RunOptions): Promise<never> {
    return runProcess(this.#processHost(), options);
  }

  #processHost(): ProcessHost {
    return {
      name: this.name,
      version: this.#options.version,
      state: () => this.#state,
      signal: this.#appAbort.signal,
      describeConfig: () => this.describeConfig(),
      start: () => this.start(),
      stop: (reason) => this.stop(reason),
      addStartupStep: (step) => this.addStartupStep(step),
      logger: () => this.#init?.logger,
      core: () => this.#init?.core,
      serveHealth: async () => {
        await serveHealth(this);
      },
      activity: () => this.#http.activity(),
      onLifecycleEvent: (listener) => this.on('lifecycle', listener),
      reportError: (error, context) => this.#errors.report(error, context),
      runExitSteps: () => runBoundedSteps(this.#exitSteps, 'beforeExit', (error) => this.#init?.logger.error({ err: error }, 'beforeExit step failed')),
    };
  }

  async #start(): Promise<void> {
    this.#setState('starting');
    const started = performance.now();
    const events: LifecycleEvent[] = [];
    const off = this.on('lifecycle', (event) => events.push(event));
    try {
      this.#init = this.#initialize();
      this.#init.logger.info({ components: this.#graph.map((n) => n.id) }, `starting ${this.name}`);
      for (const step of this.#startupSteps) await step(this.#startupAbort.signal);
      await this.#init.orchestrator.start(this.#startupAbort.signal);
    } catch (error) {
      off();
      const aborted = error instanceof StartupAbortedError;
      if (!aborted) {
        this.#setState('failed', error instanceof Error ? error.message : String(error));
        const failed = error instanceof StartupError ? { component: error.component, phase: error.phase, attempt: error.attempts } : {};
        this.#errors.report(error, { source: 'startup', level: 'fatal', ...failed });
      }
      this.#init?.logger.error({ err: error }, aborted ? 'startup aborted; rolled back' : 'startup failed; rolled back');
      throw error;
    }
    off();
    const { logger, components } = this.#init;
    for (const line of summarizeStartup(components, events)) logger.info(line, 'component started');
    const degraded = this.#degradedComponents();
    this.#setState(degraded.length ? 'degraded' : 'ready', degraded.length ? `unavailable: ${degraded.join(', ')}` : undefined);
    logger.info({ startupMs: Math.round(performance.now() - started), state: this.#state }, `${this.name} started`);
  }

  async #stop(reason: string): Promise<StopReport> {
    this.#appAbort.abort(reason);
    if (this.#state === 'created') {
      this.#setState('stopped', reason);
      return { clean: true, failures: [] };
    }
    if (this.#state === 'starting') {
      this.#startupAbort.abort(reason);
      this.#setState('draining', reason);
      await this.#starting?.catch(() => undefined);
      const report = this.#init ? await this.#init.orchestrator.stop() : { clean: true, failures: [] };
      this.#setState('stopped', reason);
      return report;
    }
    if (this.#state === 'failed') return this.#init ? this.#init.orchestrator.stop() : { clean: false, failures: [] };
    this.#setState('draining', reason);
    const init = this.#initialized();
    init.logger.info({ reason }, 'shutting down');
    const stepFailed = (error: unknown): void => init.logger.error({ err: error }, 'shutdown step failed');
    await runBoundedSteps(this.#firstShutdownSteps, 'first shutdown step', stepFailed);
    const drainAbort = new AbortController();
    for (const step of this.#drainSteps) {
      try {
        await step(drainAbort.signal);
      } catch (error) {
        stepFailed(error);
      }
    }
    await runBoundedSteps(this.#pluginShutdownSteps, 'shutdown step', stepFailed);
    const report = await init.orchestrator.stop();
    this.#setState('stopped', reason);
    if (report.clean) init.logger.info('stopped cleanly');
    else init.logger.error({ failures: report.failures }, 'stopped with failures');
    return report;
  }

  #initialize(): Initialized {
    const env = this.#options.env ?? process.env;
    const loaded = loadSettings({ appName: this.name, appEnvPrefix: this.envPrefix, groups: this.#groups, env, production: isProduction(env, this.envPrefix) });
    const resolved = loaded.values;
    const appValues = resolved.get('app') ?? {};
    const core = Object.fromEntries(Object.keys(coreSettings).map((k) => [k, appValues[k]])) as unknown as CoreConfig;
    const settings = Object.fromEntries(Object.keys(this.#options.settings ?? {}).map((k) => [k, appValues[k]]));
    const logger = createLogger(this.name, core.logLevel, this.#options.logDestination);
    for (const warning of loaded.warnings) logger.warn(warning);
    const appSecrets = secretsOf(this.#groups[0] as SettingsGroup, appValues);
    const allSecrets = [...appSecrets];
    for (const group of this.#groups.slice(1)) allSecrets.push(...secretsOf(group, resolved.get(group.id) ?? {}));
    const allRedact = createRedactor(allSecrets);
    const host = this.#pluginHost(env, core, allRedact);

    const pluginInstances = new Map<string, object>();
    const pluginMeta = new Map<string, { availability: PluginAvailability; config: Record<string, unknown>; secrets: string[]; redact: (t: string) => string }>();
    for (const node of this.#graph) {
      if (node.kind !== 'plugin') continue;
      const { plugin } = node;
      const group = this.#groups.find((g) => g.id === plugin.prefix) as SettingsGroup;
      const config = resolved.get(plugin.prefix) ?? {};
      const secrets = secretsOf(group, config);
      const redact = createRedactor([...secrets, ...appSecrets]);
      const availability = new PluginAvailability(plugin.type, plugin.prefix);
      availability.onChange(() => this.#onAvailabilityChange());
      const ownConfig = Object.fromEntries(Object.keys(plugin.settings).map((k) => [k, config[k]]));
      const instance = plugin.instantiate({
        appName: this.name,
        type: plugin.type,
        prefix: plugin.prefix,
        config: Object.freeze(ownConfig),
        options: undefined,
        logger: logger.child({ plugin: plugin.type, prefix: plugin.prefix }),
        availability,
        redact,
        app: host,
        embedded: loaded.embedded.has(plugin.prefix),
      });
      if (plugin.embedded && loaded.embedded.has(plugin.prefix)) {
        const target = (instance as { target?: unknown }).target;
        logger.warn({ plugin: plugin.type, prefix: plugin.prefix, embedded: true }, embeddedNotice(plugin.prefix, typeof target === 'string' ? target : undefined, group.envPrefix, plugin.embedded));
      }
      pluginInstances.set(plugin.prefix, instance);
      pluginMeta.set(plugin.prefix, { availability, config, secrets, redact });
    }

    const { container, instances } = buildContainer(
      this.#graph,
      pluginInstances,
      new Map<symbol, unknown>([[APP, this], [APP_SETTINGS, Object.freeze(settings)], [LOGGER, logger]]),
      this.#options.overrides,
    );
    const serviceDefaults = { ...DEFAULT_TIMEOUTS, ...this.#options.timeouts };
    const firstIds = this.#graph.filter((n) => n.kind === 'plugin' && n.plugin.order === 'first').map((n) => n.id);
    const ordered = [...this.#graph].sort((a, b) => Number(firstIds.includes(b.id)) - Number(firstIds.includes(a.id)));
    // A 'first' plugin is a dependency of everything else: it starts before and stops after all of them.
    const dependsOnOf = (node: ComponentNode): readonly string[] =>
      firstIds.includes(node.id) ? node.dependsOn : [...new Set([...firstIds, ...node.dependsOn])];
    const components: LifecycleComponent[] = ordered.map((node) => {
      const instance = instances.get(node.id) as LifecycleComponent['instance'];
      if (node.kind === 'plugin') {
        const meta = pluginMeta.get(node.id) as NonNullable<ReturnType<typeof pluginMeta.get>>;
        return {
          id: node.id,
          kind: 'plugin',
          pluginType: node.plugin.type,
          critical: meta.config['critical'] as boolean,
          dependsOn: dependsOnOf(node),
          instance,
          timeouts: {
            preStart: meta.config['startTimeout'] as number,
            onStart: meta.config['onStartTimeout'] as number,
            onStop: meta.config['stopTimeout'] as number,
            health: meta.config['healthTimeout'] as number,
          },
          availability: meta.availability,
          retryPreStart: true,
          redact: meta.redact,
          embedded: loaded.embedded.has(node.id),
        };
      }
      const own = serviceOptionsOf(node.serviceClass) ?? {};
      return {
        id: node.id,
        kind: 'service',
        pluginType: undefined,
        critical: true,
        dependsOn: dependsOnOf(node),
        instance,
        timeouts: {
          preStart: own.startTimeout ?? serviceDefaults.preStart,
          onStart: own.onStartTimeout ?? serviceDefaults.onStart,
          onStop: own.stopTimeout ?? serviceDefaults.onStop,
          health: serviceDefaults.health,
        },
        availability: undefined,
        retryPreStart: false,
        redact: allRedact,
      };
    });

    const orchestrator = new Orchestrator(components, {
      appSignal: this.#appAbort.signal,
      emit: (event) => {
        this.#events.emit('lifecycle', event);
        logLifecycleEvent(logger, event);
      },
      retryBackoff: this.#options.retryBackoff ?? { initialDelayMs: 100, maxDelayMs: 3_000 },
      recoveryBackoff: this.#options.recoveryBackoff ?? { initialDelayMs: 500, maxDelayMs: 15_000 },
      reportError: (error, context) => this.#errors.report(error, context),
    });
    return { logger, core, settings, instances, components, orchestrator, get: <T>(token: InjectionToken) => container.get(token as never) as T };
  }

  #pluginHost(env: EnvSource, core: CoreConfig, redact: (text: string) => string): PluginHost {
    return buildPluginHost({
      name: this.name,
      version: this.#options.version,
      environment: detectEnvironment(env, this.envPrefix),
      state: () => this.#state,
      signal: this.#appAbort.signal,
      healthPath: routePrefix(core.healthPath),
      events: this.#events,
      http: this.#http,
      errors: this.#errors,
      redact,
      firstShutdownSteps: this.#firstShutdownSteps,
      shutdownSteps: this.#pluginShutdownSteps,
      exitSteps: this.#exitSteps,
    });
  }

  #settingsGroups(): SettingsGroup[] {
    const own = this.#options.settings ?? {};
    for (const key of Object.keys(own)) {
      if (key in coreSettings) {
        throw new GraphValidationError('ENV_NAME_CLASH', `App setting "${key}" clashes with the built-in ${envName(this.envPrefix, key)}`);
      }
    }
    const groups: SettingsGroup[] = [{ id: 'app', envPrefix: this.envPrefix, owner: 'app', schema: { ...coreSettings, ...own } }];
    for (const node of this.#graph) {
      if (node.kind !== 'plugin') continue;
      const { plugin } = node;
      const clash = Object.keys(plugin.settings).find((k) => RESERVED_PLUGIN_KEYS.includes(k));
      if (clash) {
        throw new GraphValidationError('ENV_NAME_CLASH', `${plugin.type} plugin defines setting "${clash}", which every plugin has already`);
      }
      const common = plugin.common;
      const lifecycle = pluginLifecycleSettings({
        critical: common.critical ?? plugin.defaultCritical,
        startTimeout: common.startTimeout ?? DEFAULT_TIMEOUTS.preStart,
        onStartTimeout: common.onStartTimeout ?? DEFAULT_TIMEOUTS.onStart,
        stopTimeout: common.stopTimeout ?? DEFAULT_TIMEOUTS.onStop,
        healthTimeout: common.healthTimeout ?? DEFAULT_TIMEOUTS.health,
      });
      groups.push({
        id: plugin.prefix,
        envPrefix: envName(this.envPrefix, plugin.prefix),
        owner: `${plugin.type} ${plugin.prefix}`,
        schema: { ...plugin.settings, ...lifecycle },
        overrides: common.config as Record<string, unknown> | undefined,
        ...(plugin.embedded ? { embedded: plugin.embedded } : {}),
        ...(plugin.validateConfig ? { validate: plugin.validateConfig } : {}),
      });
    }
    const seen = new Map<string, string>();
    for (const group of groups) {
      for (const key of Object.keys(groupSchema(group))) {
        const name = envName(group.envPrefix, key);
        const other = seen.get(name);
        if (other) throw new GraphValidationError('ENV_NAME_CLASH', `${name} would be read by both ${other} and ${group.owner}; rename one`);
        seen.set(name, group.owner);
      }
    }
    return groups;
  }

  #degradedComponents(): string[] {
    return (this.#init?.components ?? []).filter((c) => c.availability && !c.availability.available).map((c) => c.id);
  }

  #onAvailabilityChange(): void {
    if (this.#state !== 'ready' && this.#state !== 'degraded') return;
    const degraded = this.#degradedComponents();
    this.#setState(degraded.length ? 'degraded' : 'ready', degraded.length ? `unavailable: ${degraded.join(', ')}` : 'all plugins available');
  }

  #setState(to: AppState, reason?: string): void {
    const from = this.#state;
    if (from === to) return;
    this.#state = to;
    const change: StateChange = { from, to, at: performance.now(), reason };
    this.#init?.logger.info({ from, to, reason }, `state ${to}`);
    this.#events.emit('state', change);
  }

  #initialized(): Initialized {
    if (!this.#init) throw new PlinthError(`${this.name} is not initialized yet: call start() first`);
    return this.#init;
  }
}

/** Values of the settings the schema marks sensitive: what redaction hides. */
function secretsOf(group: SettingsGroup, values: Readonly<Record<string, unknown>>): string[] {
  return Object.entries(values)
    .filter(([key, value]) => typeof value === 'string' && group.schema[key]?.sensitive)
    .map(([, value]) => value as string);
}

function logLifecycleEvent(logger: Logger, event: LifecycleEvent): void {
  if (event.outcome === 'begin') {
    logger.debug({ component: event.component, phase: event.phase, attempt: event.attempt }, `${event.phase} ${event.component}`);
    return;
  }
  const fields = {
    component: event.component,
    phase: event.phase,
    outcome: event.outcome,
    attempt: event.attempt,
    durationMs: Math.round(event.durationMs ?? 0),
    ...(event.error ? { error: event.error } : {}),
  };
  const failed = event.outcome === 'failed' || event.outcome === 'timedOut';
  const level = failed ? 'error' : event.outcome === 'retrying' || event.outcome === 'degraded' ? 'warn' : 'debug';
  logger[level](fields, `${event.phase} ${event.component} ${event.outcome}`);
}
