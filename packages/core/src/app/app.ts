import type { RequestListener, Server as HttpServer } from 'node:http';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { describeSettings, type ConfigEntry } from '../config/describe-config.js';
import { toEnvSegment } from '../config/env-names.js';
import type { EnvSource } from '../config/load-settings.js';
import type { SettingsOf, SettingsSchema } from '../config/setting.js';
import { PlinthError } from '../errors.js';
import type { HealthServer, ServeHealthOptions } from '../health/health-server.js';
import { AppHttp } from '../http/app-http.js';
import type { AttachHttpServerOptions, HttpServerSource } from '../http/attached-server.js';
import { serveHttp, type ServeHttpOptions } from '../http/serve-http.js';
import type { UnavailablePlugin } from '../http/unavailable-responder.js';
import type { InjectionToken } from '../internal/injection-metadata.js';
import type { AppState } from '../lifecycle/events.js';
import type { StopReport } from '../lifecycle/orchestrator.js';
import { AppEventEmitter, type AppEvents } from '../lifecycle/typed-emitter.js';
import type { PluginOf, PluginPrefix } from '../plugin/plugin-registry.js';
import { AppLifecycle, type ShutdownStep, type StartupStep } from './app-lifecycle.js';
import type { ReloadReport } from './config-reload.js';
import { processHostOf } from './process-host.js';
import { runProcess, type RunOptions } from './run-process.js';
import { AppComposition } from './app-composition.js';
import { assertAppName } from './settings-groups.js';
import type { AppHealth, AppOptions } from './app-options.js';

export type { AppHealth, AppOptions } from './app-options.js';
export type { ReloadReport } from './config-reload.js';

/** One service process: a facade over its settings, components, lifecycle and HTTP side. Create it with `createApp`. */
export class App<S extends SettingsSchema = SettingsSchema> {
  readonly name: string;
  readonly envPrefix: string;
  readonly #composition: AppComposition;
  readonly #env: EnvSource;
  readonly #events = new AppEventEmitter();
  readonly #http: AppHttp;
  readonly #lifecycle: AppLifecycle;

  constructor(options: AppOptions<S>) {
    assertAppName(options.name);
    this.name = options.name;
    this.envPrefix = toEnvSegment(options.name);
    this.#env = options.env ?? process.env;
    this.#composition = new AppComposition(options as AppOptions, this.envPrefix);
    const lifecycle: AppLifecycle = new AppLifecycle({ app: this, options, composition: this.#composition, events: this.#events, http: () => http });
    const http = new AppHttp({
      name: options.name,
      envPrefix: this.envPrefix,
      state: () => lifecycle.state,
      runtime: () => lifecycle.runtime,
      on: (event, listener) => this.#events.on(event, listener),
      reportError: (error, context) => lifecycle.errors.report(error, context),
    });
    this.#http = http;
    this.#lifecycle = lifecycle;
  }

  get state(): AppState {
    return this.#lifecycle.state;
  }

  /** Aborts when shutdown begins. */
  get signal(): AbortSignal {
    return this.#lifecycle.signal;
  }

  /** The root logger; available once `start()` has loaded the settings. */
  get logger(): Logger {
    return this.#runtime().logger;
  }

  /** The app's own settings (from `createApp({ settings })`), resolved. */
  get settings(): SettingsOf<S> {
    return this.#runtime().settings.app as SettingsOf<S>;
  }

  on<K extends keyof AppEvents>(event: K, listener: (payload: AppEvents[K]) => void): () => void {
    return this.#events.on(event, listener);
  }

  /**
   * Every env var the app reads, with default, required, sensitive and description: those of
   * the declared plugins, or, once `start()` has begun, of the implementations it loaded by name.
   */
  describeSettings(): ConfigEntry[] {
    return describeSettings(this.#composition.groups);
  }

  /** The plugin instance declared with this prefix. */
  plugin<K extends PluginPrefix>(prefix: K): PluginOf<K> {
    const instance = this.#runtime().plugins.get(prefix);
    if (instance === undefined) throw new PlinthError(`No plugin is declared with prefix "${prefix}"`);
    return instance as PluginOf<K>;
  }

  /** The plugins unavailable right now, by prefix (none before start). */
  unavailablePlugins(): readonly UnavailablePlugin[] {
    const components = this.#lifecycle.runtime?.components ?? [];
    return components.flatMap((c) => (c.availability && !c.availability.available ? [{ prefix: c.id, critical: c.critical, reason: c.availability.reason }] : []));
  }

  /** A service by its class (typed as its instance), or a built-in value by token. */
  get<C extends abstract new (...args: never[]) => object>(service: C): InstanceType<C>;
  get<T = unknown>(token: InjectionToken): T;
  get(token: InjectionToken): unknown {
    return this.#runtime().get(token);
  }

  /** A step run when shutdown begins, after readiness flips to 503 and the servers drain, before any component stops. */
  addShutdownStep(step: ShutdownStep): void {
    this.#lifecycle.steps.drain.push(step);
  }

  /** A step `start()` runs once settings are loaded and components built, before any preStart; a throw fails startup. */
  addStartupStep(step: StartupStep): void {
    this.#lifecycle.steps.startup.push(step);
  }

  /**
   * Hands a service's HTTP server to the app (a node `http.Server`, or a fastify instance):
   * the probes and `/metrics` are served on it, and on shutdown the app drains it: it stops
   * listening after the shutdown delay, lets in-flight requests finish, and closes keep-alive
   * connections without resetting any. Attach it before it starts listening.
   */
  attachHttpServer(server: HttpServerSource, options?: AttachHttpServerOptions): void {
    this.#http.attach(server, options);
  }

  /** Serves a request listener (express, koa, a plain handler) on a new attached server; resolves once it listens. */
  async serveHttp(handler: RequestListener, options: ServeHttpOptions): Promise<HttpServer> {
    const server = await serveHttp((s, o) => this.attachHttpServer(s, o), handler, options);
    const address = server.address();
    const port = address !== null && typeof address === 'object' ? address.port : undefined;
    this.#lifecycle.runtime?.logger.info({ port }, `HTTP server listening on :${port}`);
    return server;
  }

  /**
   * Opens the dedicated health server (what `run()` does on `{APP}_HEALTH_PORT`): only the
   * probes and `/metrics`. Call it once `start()` has loaded the settings (from a startup
   * step); it closes when the app has stopped.
   */
  serveHealth(options?: ServeHealthOptions): Promise<HealthServer> {
    return this.#lifecycle.serveHealth(options);
  }

  /** The health checks behind the probes: `await app.health.report()`. */
  get health(): AppHealth {
    return this.#http.health;
  }

  /** The app's own Prometheus registry (served at `/metrics`); register your metrics on it. */
  get metrics(): Registry {
    return this.#http.metrics;
  }

  /** Loads settings (one ConfigError for every bad variable), builds plugins and services, runs preStart and onStart. Idempotent. */
  start(): Promise<void> {
    return this.#lifecycle.start();
  }

  /**
   * Re-reads the settings (from the env file `{APP}_ENV_FILE` names, over the process env),
   * validates all of them, and applies the reloadable ones that changed: the log level, and
   * plugins' through `onSettingsChange`. On any problem nothing changes. What `run()` does on SIGHUP.
   */
  reload(): Promise<ReloadReport> {
    return this.#lifecycle.reload();
  }

  /** Graceful shutdown; during startup it aborts startup and rolls back. Idempotent: every caller gets the same report. */
  stop(reason = 'stop requested'): Promise<StopReport> {
    return this.#lifecycle.stop(reason);
  }

  /** Runs the app as the process: `--help`, `--version`, signals, exit codes (0 clean, 1 failure, 78 bad settings). */
  run(options?: RunOptions): Promise<never> {
    return runProcess(processHostOf(this, this.#lifecycle, this.#http, this.#composition, this.#env), options);
  }

  #runtime() {
    const runtime = this.#lifecycle.runtime;
    if (!runtime) throw new PlinthError(`${this.name} is not started yet: call start() first`);
    return runtime;
  }
}
