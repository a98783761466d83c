import { performance } from 'node:perf_hooks';
import { withEnvFile } from '../config/env-file.js';
import type { EnvSource } from '../config/load-settings.js';
import type { SettingsSchema } from '../config/setting.js';
import { PlinthError, StartupAbortedError, StartupError } from '../errors.js';
import { openHealthServer, type HealthServer, type ServeHealthOptions } from '../health/health-server.js';
import type { AppHttp } from '../http/app-http.js';
import { pluginsOf } from '../container/component-graph.js';
import { routePrefix } from '../http/route-handler.js';
import { runBoundedSteps, type BoundedStep } from '../lifecycle/bounded-steps.js';
import type { LifecycleEvent } from '../lifecycle/events.js';
import type { StopReport } from '../lifecycle/orchestrator.js';
import { StartAbort } from '../lifecycle/start-abort.js';
import type { AppEventEmitter } from '../lifecycle/typed-emitter.js';
import { messageOf } from '../message-of.js';
import type { AppOptions } from './app.js';
import type { AppComposition } from './app-composition.js';
import { AppStateMachine } from './app-state.js';
import { buildPluginHost, buildPluginServices } from './build-plugin-host.js';
import { ErrorChannel } from './error-channel.js';
import type { PluginHost } from './plugin-host.js';
import { resolveAppSettings, type ResolvedAppSettings } from './resolved-settings.js';
import { ConfigReloader, type ReloadReport } from './config-reload.js';
import { createRuntime, type AppRuntime } from './runtime.js';
import { summarizeStartup } from './startup-summary.js';

/** A drain step run when shutdown begins, before components stop. */
export type ShutdownStep = (signal: AbortSignal) => Promise<void>;

/** A step run by `start()` once settings are loaded and components are built, before any preStart. */
export type StartupStep = (signal: AbortSignal) => Promise<void>;

export interface LifecycleInput {
  readonly app: object;
  readonly options: AppOptions<SettingsSchema>;
  readonly composition: AppComposition;
  readonly events: AppEventEmitter;
  readonly http: () => AppHttp;
}

/**
 * An app's run from `created` to `stopped`: loads its runtime, starts and stops its
 * components, runs the steps others registered, and reports failures on the error channel.
 */
export class AppLifecycle {
  readonly errors = new ErrorChannel();
  readonly steps = {
    startup: [] as StartupStep[],
    drain: [] as ShutdownStep[],
    /** Plugins' steps run at the very start of shutdown. */
    first: [] as BoundedStep[],
    /** Plugins' steps run after the servers drained. */
    late: [] as BoundedStep[],
    exit: [] as BoundedStep[],
  };
  readonly #input: LifecycleInput;
  readonly #state: AppStateMachine;
  readonly #appAbort = new AbortController();
  /** Why startup was abandoned, read once the startup steps are done; the steps get its signal. */
  readonly #startupAbort = new StartAbort<string>();
  #runtime: AppRuntime | undefined;
  #starting: Promise<void> | undefined;
  #reloader: ConfigReloader | undefined;
  #stopping: Promise<StopReport> | undefined;

  constructor(input: LifecycleInput) {
    this.#input = input;
    this.#state = new AppStateMachine(input.events, () => this.#runtime?.logger);
  }

  get state() {
    return this.#state.current;
  }

  get version(): string | undefined {
    return this.#input.options.version;
  }

  get signal(): AbortSignal {
    return this.#appAbort.signal;
  }

  /** Undefined until `start()` has loaded the settings. */
  get runtime(): AppRuntime | undefined {
    return this.#runtime;
  }

  start(): Promise<void> {
    this.#starting ??= this.#start();
    return this.#starting;
  }

  stop(reason: string): Promise<StopReport> {
    if (this.#stopping) return this.#stopping;
    // Record the shutdown before it starts: it aborts `signal` synchronously, and an abort
    // listener that calls stop() must join this shutdown, not begin a second one.
    let settle!: (report: Promise<StopReport>) => void;
    this.#stopping = new Promise<StopReport>((resolve) => (settle = resolve));
    settle(this.#stop(reason));
    return this.#stopping;
  }

  async serveHealth(options: ServeHealthOptions = {}): Promise<HealthServer> {
    const runtime = this.#runtime;
    if (!runtime) throw new PlinthError('the health server opens once settings are loaded: serve it from a startup step');
    const http = this.#input.http();
    const { core, settings, logger } = runtime;
    http.servingEndpoints();
    const prefix = this.#input.composition.groups[0]?.envPrefix ?? '';
    const appHost = settings.app['httpHost'];
    const fallback = typeof appHost === 'string' && appHost !== '' ? appHost : settings.environment.kubernetes ? '0.0.0.0' : '127.0.0.1';
    const server = await openHealthServer({
      port: options.port ?? core.healthPort,
      host: options.host ?? core.healthHost ?? fallback,
      portSetting: `${prefix}_HEALTH_PORT`,
      hostSetting: `${prefix}_HEALTH_HOST`,
      routes: () => http.routes(),
      logger,
    });
    http.addHealthServer(server.server);
    const off = this.#input.events.on('state', ({ to }) => {
      if (to !== 'stopped') return;
      off();
      void server.close();
    });
    return server;
  }

  async #start(): Promise<void> {
    this.#state.set('starting');
    const started = performance.now();
    const events: LifecycleEvent[] = [];
    const off = this.#input.events.on('lifecycle', (event) => events.push(event));
    try {
      const env = this.#readEnv();
      const loading = this.#input.composition.load(env);
      if (loading) await loading;
      this.#runtime = this.#createRuntime(env);
      this.#runtime.logger.info({ components: this.#input.composition.graph.map((n) => n.id) }, `starting ${this.#name}`);
      for (const step of this.steps.startup) await step(this.#startupAbort.signal);
      if (this.#startupAbort.reason !== undefined) this.#runtime.orchestrator.abortStart(this.#startupAbort.reason);
      await this.#runtime.orchestrator.start();
    } catch (error) {
      off();
      const aborted = StartupAbortedError.is(error);
      if (!aborted) {
        this.#state.set('failed', messageOf(error));
        const failed = StartupError.is(error) ? { component: error.component, phase: error.phase, attempt: error.attempts } : {};
        this.errors.report(error, { source: 'startup', level: 'fatal', ...failed });
      }
      this.#runtime?.logger.error({ err: error }, aborted ? 'startup aborted; rolled back' : 'startup failed; rolled back');
      throw error;
    }
    off();
    const { logger, components } = this.#runtime;
    for (const line of summarizeStartup(components, events)) logger.info(line, 'component started');
    this.#state.settle(components);
    this.#state.followAvailability(components);
    this.#reloader = new ConfigReloader({
      runtime: this.#runtime,
      groups: this.#input.composition.groups,
      load: () => this.#loadSettings(this.#readEnv()),
      countOutcome: (outcome) => this.#input.http().series.countReload(outcome),
    });
    const embedded = components.filter((c) => c.embedded).map((c) => c.id);
    logger.info({ startupMs: Math.round(performance.now() - started), state: this.state, ...(embedded.length ? { embedded } : {}) }, `${this.#name} started`);
  }

  async #stop(reason: string): Promise<StopReport> {
    this.#appAbort.abort(reason);
    const runtime = this.#runtime;
    if (this.state === 'created') {
      this.#state.set('stopped', reason);
      return { clean: true, failures: [] };
    }
    if (this.state === 'failed') return runtime ? runtime.orchestrator.stop() : { clean: false, failures: [] };
    const wasStarting = this.state === 'starting';
    if (wasStarting) {
      // Told directly, not through a signal: a start pays nothing to listen for it.
      this.#startupAbort.abort(reason);
      this.#runtime?.orchestrator.abortStart(reason);
    }
    this.#state.set('draining', reason);
    if (wasStarting) {
      await this.#starting?.catch(() => undefined);
      const report = runtime ? await runtime.orchestrator.stop() : { clean: true, failures: [] };
      this.#state.set('stopped', reason);
      return report;
    }
    const { logger } = runtime as AppRuntime;
    logger.info({ reason }, 'shutting down');
    const stepFailed = (error: unknown): void => logger.error({ err: error }, 'shutdown step failed');
    await runBoundedSteps(this.steps.first, 'first shutdown step', stepFailed);
    await this.#input.http().shutdown(runtime as AppRuntime).catch(stepFailed);
    const drainAbort = new AbortController();
    for (const step of this.steps.drain) await step(drainAbort.signal).catch(stepFailed);
    await runBoundedSteps(this.steps.late, 'shutdown step', stepFailed);
    const report = await (runtime as AppRuntime).orchestrator.stop();
    this.#state.set('stopped', reason);
    if (report.clean) logger.info('stopped cleanly');
    else logger.error({ failures: report.failures }, 'stopped with failures');
    return report;
  }

  get #name(): string {
    return this.#input.options.name;
  }

  /**
   * Re-reads the settings (the env file again, over the process env) and applies the
   * reloadable ones that changed; refused while the app is not serving.
   */
  async reload(): Promise<ReloadReport> {
    const serving = this.state === 'ready' || this.state === 'degraded';
    if (!this.#reloader || !serving) {
      const error = `config reload refused: the app is ${this.state}`;
      this.#runtime?.logger.warn({ state: this.state }, error);
      return { outcome: 'rejected', applied: [], needsRestart: [], error };
    }
    return this.#reloader.reload();
  }

  /** The env as given (the process env by default), with the env file's variables over it. */
  #readEnv(): EnvSource {
    const { options, composition } = this.#input;
    return withEnvFile(options.name, composition.groups[0]?.envPrefix ?? '', options.env ?? process.env);
  }

  #loadSettings(env: EnvSource) {
    const { options, composition } = this.#input;
    return resolveAppSettings({
      appName: options.name,
      envPrefix: composition.groups[0]?.envPrefix ?? '',
      groups: composition.groups,
      appSchema: options.settings ?? {},
      plugins: pluginsOf(composition.graph),
      env,
    });
  }

  #createRuntime(env: EnvSource): AppRuntime {
    const { options, composition, events, app } = this.#input;
    const { graph, groups } = composition;
    return createRuntime({
      name: options.name,
      envPrefix: groups[0]?.envPrefix ?? '',
      graph,
      groups,
      appSchema: options.settings ?? {},
      env,
      logDestination: options.logDestination,
      serviceTimeouts: options.timeouts,
      overrides: options.overrides,
      retryBackoff: options.retryBackoff,
      recoveryBackoff: options.recoveryBackoff,
      app,
      appSignal: () => this.#appAbort.signal,
      events,
      errors: this.errors,
      pluginHost: (settings, redact) => this.#pluginHost(settings, redact),
      pluginServices: (settings) => buildPluginServices(settings, this.#input.http(), this.#input.events, () => this.#runtime?.logger),
    });
  }

  #pluginHost(settings: ResolvedAppSettings, redact: (text: string) => string): PluginHost {
    return buildPluginHost({
      name: this.#name,
      version: this.#input.options.version,
      environment: settings.environment,
      state: () => this.state,
      signal: this.#appAbort.signal,
      healthPath: routePrefix(settings.core.healthPath),
      events: this.#input.events,
      http: this.#input.http(),
      errors: this.errors,
      redact,
      firstShutdownSteps: this.steps.first,
      shutdownSteps: this.steps.late,
      exitSteps: this.steps.exit,
    });
  }
}
