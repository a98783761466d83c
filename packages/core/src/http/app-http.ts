import type { Server as HttpServer } from 'node:http';
import type { Registry } from 'prom-client';
import type { ErrorContext } from '../app/error-channel.js';
import type { HttpAddress, RequestRecord } from '../app/plugin-host.js';
import { HealthMonitor, type HealthSource } from '../health/health-monitor.js';
import { createProbeRoutes } from '../health/probe-routes.js';
import { createAppMetrics } from '../metrics/app-metrics.js';
import { LifecycleTimings } from '../metrics/lifecycle-timings.js';
import { createMetricsRoute } from '../metrics/metrics-route.js';
import { AttachedServer, serverOf, type AttachHttpServerOptions, type HttpServerSource } from './attached-server.js';
import { firstOf, type RouteHandler } from './route-handler.js';

/** What the app's HTTP side needs from the app. */
export interface HttpHost extends HealthSource {
  readonly name: string;
  addShutdownStep(step: (signal: AbortSignal) => Promise<void>): void;
  reportError(error: unknown, context: ErrorContext): void;
}

type RequestListener = (record: RequestRecord) => void;
type ListeningListener = (address: HttpAddress) => void;

const registry = new WeakMap<object, AppHttp>();

/** The HTTP side of an app (for run() and serveHealth()). */
export function appHttpOf(app: object): AppHttp {
  const http = registry.get(app);
  if (!http) throw new TypeError('not a plinth app');
  return http;
}

/**
 * Everything an app serves and drains over HTTP: the health monitor, the metrics registry,
 * the framework's routes (probes, `/metrics`), and the servers services hand over.
 *
 * Shutdown, as a shutdown step of the app (so it runs once the state is `draining` and
 * readiness answers 503): responses start saying `Connection: close`; the servers keep
 * serving (and accepting) for `shutdownDelay`; then every handed-over server is drained at
 * once, each bounded by `shutdownDrainTimeout`.
 */
export class AppHttp {
  readonly health: HealthMonitor;
  readonly timings = new LifecycleTimings();
  readonly #app: HttpHost;
  readonly #servers: AttachedServer[] = [];
  readonly #requestListeners = new Set<RequestListener>();
  readonly #listeningListeners = new Set<ListeningListener>();
  #healthServer: HttpServer | undefined;
  #metrics: Registry | undefined;
  #routes: RouteHandler | undefined;
  #inDelay = false;
  #polling = false;

  constructor(app: HttpHost, owner: object) {
    this.#app = app;
    this.health = new HealthMonitor(app);
    app.on('lifecycle', (event) => this.timings.recordEvent(event));
    app.on('state', (change) => {
      this.timings.recordState(change);
      if (this.#polling && (change.to === 'ready' || change.to === 'degraded')) this.#startPolling();
    });
    app.addShutdownStep(() => this.#shutdown());
    registry.set(owner, this);
  }

  /** The app's Prometheus registry, created on first use. */
  get metrics(): Registry {
    const app = this.#app;
    this.#metrics ??= createAppMetrics({
      get state() {
        return app.state;
      },
      components: () => app.components(),
      health: this.health,
      timings: this.timings,
    });
    return this.#metrics;
  }

  /** The probe and metrics routes; undefined until the app's config is loaded. */
  routes(): RouteHandler | undefined {
    if (this.#routes) return this.#routes;
    let core: HttpHost['coreConfig'];
    try {
      core = this.#app.coreConfig;
    } catch {
      return undefined;
    }
    const probes = createProbeRoutes(this.health, { path: core.healthPath, details: core.healthDetails, token: core.healthToken });
    const metricsPath = core.metricsPath;
    this.#routes = metricsPath ? firstOf([probes, createMetricsRoute(() => this.metrics, metricsPath)]) : probes;
    return this.#routes;
  }

  /** Serve the endpoints on this server and drain it on shutdown. Attaching one twice is a no-op. */
  attach(source: HttpServerSource, options?: AttachHttpServerOptions): void {
    const server = serverOf(source);
    if (this.#servers.some((s) => s.server === server)) return;
    this.#servers.push(new AttachedServer(source, () => this.routes(), (record) => this.#recordRequest(record), options));
    this.#watchListening(server);
    this.servingEndpoints();
  }

  /** The dedicated health server: its address is the app's only when no service server listens. */
  addHealthServer(server: HttpServer): void {
    this.#healthServer = server;
    this.#watchListening(server);
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

  #watchListening(server: HttpServer): void {
    const announce = (): void => {
      const address = addressOf(server);
      if (address) for (const listener of this.#listeningListeners) notify(listener, address);
    };
    if (server.listening) announce();
    else server.once('listening', announce);
  }

  #recordRequest(record: RequestRecord): void {
    for (const listener of this.#requestListeners) notify(listener, record);
    if (record.statusCode < 500) return;
    const what = `${record.method} ${record.route ?? '(route unknown)'} answered ${record.statusCode}`;
    this.#app.reportError(record.error ?? new Error(what), {
      source: 'http',
      level: 'error',
      details: { method: record.method, status: record.statusCode, ...(record.route ? { route: record.route } : {}) },
    });
  }

  /** Probes are being served: also run the checks in the background while the app serves. */
  servingEndpoints(): void {
    this.#polling = true;
    const state = this.#app.state;
    if (state === 'ready' || state === 'degraded') this.#startPolling();
  }

  /** What shutdown is still waiting for, for the hard-deadline log. */
  activity(): string[] {
    const busy = this.#servers.map((s) => s.activity()).filter((a): a is string => a !== undefined);
    return this.#inDelay ? ['shutdown delay (still serving while load balancers catch up)', ...busy] : busy;
  }

  async #shutdown(): Promise<void> {
    const { shutdownDelay, shutdownDrainTimeout } = this.#app.coreConfig;
    const logger = this.#app.logger;
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

  #startPolling(): void {
    try {
      this.health.startPolling(this.#app.coreConfig.healthInterval);
    } catch {
      // not initialized: polling starts when the app becomes ready
    }
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
