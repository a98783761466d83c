import type { Server as HttpServer } from 'node:http';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { ErrorContext } from '../app/error-channel.js';
import type { HttpAddress, RequestRecord } from '../app/plugin-host.js';
import type { CoreSettings } from '../app/resolved-settings.js';
import { HealthMonitor } from '../health/health-monitor.js';
import { createProbeRoutes, probePaths } from '../health/probe-routes.js';
import type { LifecycleComponent } from '../lifecycle/component.js';
import type { AppState } from '../lifecycle/events.js';
import type { AppEvents } from '../lifecycle/typed-emitter.js';
import { createAppMetrics } from '../metrics/app-metrics.js';
import { AvailabilityHistory } from '../metrics/availability-history.js';
import { registerHttpMetrics } from '../metrics/http-metrics.js';
import { LifecycleTimings } from '../metrics/lifecycle-timings.js';
import { RecordedSeries } from '../metrics/recorded-series.js';
import { createMetricsRoute } from '../metrics/metrics-route.js';
import { HandlerPipeline } from './handler-pipeline.js';
import { AttachedServer, serverOf, type AttachHttpServerOptions, type HttpServerSource } from './attached-server.js';
import { applyServerTimeouts, type ServerTimeouts } from './server-timeouts.js';
import { warnOfShadowedRoutes } from './route-clash.js';
import { firstOf, routePrefix, type RouteHandler } from './route-handler.js';

/** What exists once the app has loaded its settings. */
export interface HttpRuntime {
  readonly logger: Logger;
  readonly core: CoreSettings;
  readonly components: readonly LifecycleComponent[];
}

/** What the app's HTTP side needs from the app. */
export interface HttpHost {
  /** The app's name: the `app` label of every metric. */
  readonly name: string;
  readonly envPrefix: string;
  state(): AppState;
  /** Undefined until `start()` has loaded the settings. */
  runtime(): HttpRuntime | undefined;
  on<K extends keyof AppEvents>(event: K, listener: (payload: AppEvents[K]) => void): () => void;
  reportError(error: unknown, context: ErrorContext): void;
}

type RequestListener = (record: RequestRecord) => void;
type ListeningListener = (address: HttpAddress) => void;

/**
 * Everything an app serves and drains over HTTP: the health monitor, the metrics registry,
 * the framework's routes (probes, `/metrics`), and the servers services hand over.
 *
 * Shutdown (`shutdown()`, once the state is `draining` and readiness answers 503):
 * responses start saying `Connection: close`; the servers keep serving (and accepting) for
 * `shutdownDelay`; then every handed-over server is drained at once, each bounded by
 * `shutdownDrainTimeout`.
 */
export class AppHttp {
  readonly health: HealthMonitor;
  readonly timings = new LifecycleTimings();
  readonly availability = new AvailabilityHistory();
  /** Counted as it happens; the registry, made at its first use, reads it. */
  readonly series = new RecordedSeries();
  /** The request handlers plugins contributed, run on every attached server. */
  readonly handlers: HandlerPipeline;
  readonly #app: HttpHost;
  readonly #servers: AttachedServer[] = [];
  readonly #requestListeners = new Set<RequestListener>();
  readonly #listeningListeners = new Set<ListeningListener>();
  #healthServer: HttpServer | undefined;
  #metrics: Registry | undefined;
  #routes: RouteHandler | undefined;
  #inDelay = false;
  #polling = false;

  constructor(app: HttpHost) {
    this.#app = app;
    this.health = new HealthMonitor(app);
    this.handlers = new HandlerPipeline(() => app.runtime()?.logger);
    this.health.onResults((results) => this.series.observeChecks(results));
    app.on('lifecycle', (event) => this.timings.recordEvent(event));
    app.on('state', (change) => {
      this.timings.recordState(change);
      if (change.to === 'ready' || change.to === 'degraded') this.availability.follow(app.runtime()?.components ?? []);
      if (this.#polling && (change.to === 'ready' || change.to === 'degraded')) this.#startPolling();
    });
  }

  /** The app's Prometheus registry, created on first use. */
  get metrics(): Registry {
    if (this.#metrics) return this.#metrics;
    const app = this.#app;
    const registry = createAppMetrics({
      app: app.name,
      state: () => app.state(),
      components: () => app.runtime()?.components ?? [],
      health: this.health,
      timings: this.timings,
      availability: this.availability,
      series: this.series,
    });
    registerHttpMetrics(registry, this.series, { traffic: () => this.#traffic() });
    this.#metrics = registry;
    return registry;
  }

  /** The probe and metrics routes; undefined until the app's settings are loaded. */
  routes(): RouteHandler | undefined {
    if (this.#routes) return this.#routes;
    const core = this.#app.runtime()?.core;
    if (!core) return undefined;
    const probes = createProbeRoutes(this.health, { path: core.healthPath, details: core.healthDetails, token: core.healthToken });
    const metricsPath = core.metricsPath;
    this.#routes = metricsPath ? firstOf([probes, createMetricsRoute(() => this.metrics, metricsPath)]) : probes;
    return this.#routes;
  }

  /** The framework's own paths, each with the setting that moves it. */
  frameworkPaths(): { readonly path: string; readonly setting: string }[] {
    const core = this.#app.runtime()?.core;
    if (!core) return [];
    const healthVar = `${this.#app.envPrefix}_HEALTH_PATH`;
    const paths = probePaths(core.healthPath).map((path) => ({ path, setting: healthVar }));
    if (core.metricsPath) paths.push({ path: routePrefix(core.metricsPath) || '/', setting: `${this.#app.envPrefix}_METRICS_PATH` });
    return paths;
  }

  /** Serve the endpoints on this server and drain it on shutdown. Attaching one twice is a no-op. */
  attach(source: HttpServerSource, options?: AttachHttpServerOptions): void {
    const server = serverOf(source);
    if (this.#servers.some((s) => s.server === server)) return;
    applyServerTimeouts(server, () => this.#serverTimeouts());
    // Installed first, so the probes (answered by AttachedServer) never reach a handler.
    this.handlers.install(server);
    this.#servers.push(new AttachedServer(source, () => this.routes(), (record) => this.#recordRequest(record), options));
    if (options?.endpoints !== false) {
      warnOfShadowedRoutes(source, () => this.frameworkPaths(), (message) => this.#app.runtime()?.logger.warn(message));
    }
    this.#watchListening(server);
    this.servingEndpoints();
  }

  /** The dedicated health server: its address is the app's only when no service server listens. */
  addHealthServer(server: HttpServer): void {
    this.#healthServer = server;
    this.#watchListening(server);
  }

  /** Probes are being served: also run the checks in the background while the app serves. */
  servingEndpoints(): void {
    this.#polling = true;
    const state = this.#app.state();
    if (state === 'ready' || state === 'degraded') this.#startPolling();
  }

  /** The first attached server that listens, else the health server. */
  address(): HttpAddress | undefined {
    for (const { server } of this.#servers) {
      const address = addressOf(server);
      if (address) return address;
    }
    return this.#healthServer ? addressOf(this.#healthServer) : undefined;
  }

  /** Called once per server when it starts listening; at once for every server already listening. */
  onListening(listener: ListeningListener): () => void {
    this.#listeningListeners.add(listener);
    const servers = [...this.#servers.map((s) => s.server), ...(this.#healthServer ? [this.#healthServer] : [])];
    for (const server of servers) {
      const address = addressOf(server);
      if (address) notify(listener, address);
    }
    return () => this.#listeningListeners.delete(listener);
  }

  /** Every finished request of an attached server (the framework's own routes are not recorded). */
  onRequest(listener: RequestListener): () => void {
    this.#requestListeners.add(listener);
    return () => this.#requestListeners.delete(listener);
  }

  /** What shutdown is still waiting for, for the hard-deadline log. */
  activity(): string[] {
    const busy = this.#servers.map((s) => s.activity()).filter((a): a is string => a !== undefined);
    return this.#inDelay ? ['shutdown delay (still serving while load balancers catch up)', ...busy] : busy;
  }

  /** Connection: close from now on, the shutdown delay, then every server drained at once. */
  async shutdown(runtime: HttpRuntime): Promise<void> {
    const { logger, core } = runtime;
    const { shutdownDelay, shutdownDrainTimeout } = core;
    for (const server of this.#servers) server.closeConnectionsAfterResponses();
    if (shutdownDelay > 0) {
      logger.info({ shutdownDelayMs: shutdownDelay }, `readiness is 503; serving ${shutdownDelay} ms more before closing listeners`);
      this.#inDelay = true;
      await new Promise((resolve) => setTimeout(resolve, shutdownDelay));
      this.#inDelay = false;
    }
    await Promise.all(
      this.#servers.map(async (server) => {
        const name = server.describe();
        const report = await server.drain(shutdownDrainTimeout);
        if (report.forced) {
          logger.warn({ server: name, ...report }, `${name}: requests still running after ${shutdownDrainTimeout} ms; connections closed`);
        } else {
          logger.info({ server: name, durationMs: report.durationMs }, `${name} drained`);
        }
      }),
    );
  }

  #traffic(): { inFlight: number; closedWhileDraining: number } {
    let inFlight = 0;
    let closedWhileDraining = 0;
    for (const server of this.#servers) {
      inFlight += server.traffic.inFlight;
      closedWhileDraining += server.traffic.closedWhileDraining;
    }
    return { inFlight, closedWhileDraining };
  }

  #serverTimeouts(): ServerTimeouts | undefined {
    const core = this.#app.runtime()?.core;
    // Not loaded yet: applied when the server starts listening.
    if (!core) return undefined;
    return { requestTimeout: core.httpRequestTimeout, headersTimeout: core.httpHeadersTimeout, keepAliveTimeout: core.httpKeepAliveTimeout };
  }

  #watchListening(server: HttpServer): void {
    const announce = (): void => {
      const address = addressOf(server);
      if (address) for (const listener of this.#listeningListeners) notify(listener, address);
    };
    if (server.listening) announce();
    else server.once('listening', announce);
  }

  #recordRequest(record: RequestRecord): void {
    if (this.#app.runtime()?.core.metrics !== false) this.series.observeRequest(record);
    for (const listener of this.#requestListeners) notify(listener, record);
    if (record.statusCode < 500) return;
    const what = `${record.method} ${record.route ?? '(route unknown)'} answered ${record.statusCode}`;
    this.#app.reportError(record.error ?? new Error(what), {
      source: 'http',
      level: 'error',
      details: { method: record.method, status: record.statusCode, ...(record.route ? { route: record.route } : {}) },
    });
  }

  #startPolling(): void {
    const interval = this.#app.runtime()?.core.healthInterval;
    if (interval !== undefined) this.health.startPolling(interval);
  }
}

function addressOf(server: HttpServer): HttpAddress | undefined {
  const address = server.address();
  return address !== null && typeof address === 'object' ? { host: address.address, port: address.port } : undefined;
}

function notify<T>(listener: (value: T) => void, value: T): void {
  try {
    listener(value);
  } catch {
    // an observer must not break the server
  }
}
