import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import type { LifecycleComponent } from '../lifecycle/component.js';
import type { AppState } from '../lifecycle/events.js';
import type { AppEvents } from '../lifecycle/typed-emitter.js';
import { healthStatus, type CheckResults, type HealthReport, type ProbeAnswer } from './health-report.js';
import { hasHealth, runHealthCheck } from './run-health-check.js';

/** What the monitor needs from the app. */
export interface HealthSource {
  state(): AppState;
  /** Undefined until the app has loaded its settings; checks run only after that. */
  runtime(): { readonly logger: Logger; readonly core: { readonly healthCacheTtl: number }; readonly components: readonly LifecycleComponent[] } | undefined;
  on<K extends keyof AppEvents>(event: K, listener: (payload: AppEvents[K]) => void): () => void;
}

type ResultsListener = (results: CheckResults) => void;

/** Checks count only while the app serves; before and after, the state alone decides. */
function serving(state: AppState): boolean {
  return state === 'ready' || state === 'degraded';
}

/**
 * Runs the components' health checks for the probes. Concurrent callers share one run in
 * flight, and a finished run is reused for `healthCacheTtl`, so a burst of probes (or a
 * probe storm from several kubelets and load balancers) costs one round of checks.
 */
export class HealthMonitor {
  readonly #app: HealthSource;
  #startupFinished = false;
  #last: { readonly at: number; readonly results: CheckResults } | undefined;
  #running: Promise<CheckResults> | undefined;
  #runs = 0;
  #poller: NodeJS.Timeout | undefined;
  readonly #listeners = new Set<ResultsListener>();
  readonly #known = new Set<() => CheckResults>();

  constructor(app: HealthSource) {
    this.#app = app;
    app.on('state', ({ to }) => {
      if (serving(to)) this.#startupFinished = true;
      else this.stopPolling();
      // A plugin that lost (or regained) its connection changes the state: the next probe
      // must see that now, not when the cached results expire.
      this.invalidate();
    });
  }

  /** Results known without running anything (open circuit breakers), added to every round. */
  addKnownResults(source: () => CheckResults): void {
    this.#known.add(source);
  }

  /** The next probe runs the checks instead of reading the cached results. */
  invalidate(): void {
    if (this.#last) this.#last = { at: Number.NEGATIVE_INFINITY, results: this.#last.results };
  }

  /** True once startup has finished (it stays true while the app drains). */
  get startupFinished(): boolean {
    return this.#startupFinished;
  }

  /** How many check rounds have run: concurrent probes share one. */
  get runs(): number {
    return this.#runs;
  }

  /** The latest results, without running anything. */
  get lastResults(): CheckResults {
    return this.#last?.results ?? {};
  }

  /**
   * Check results: fresh from a run (shared with concurrent callers) when the app is
   * serving and the cached ones are older than the TTL; the last known ones otherwise.
   */
  checks(): Promise<CheckResults> {
    if (!serving(this.#app.state())) return Promise.resolve(this.lastResults);
    const ttl = this.#ttl();
    if (this.#last && performance.now() - this.#last.at < ttl) return Promise.resolve(this.#last.results);
    this.#running ??= this.#runAll().finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }

  /** The aggregate: app state combined with every check. */
  async report(): Promise<HealthReport> {
    const checks = await this.checks();
    // Read after the checks: shutdown may have begun meanwhile, and that wins.
    const state = this.#app.state();
    return { status: healthStatus(state, checks), state, checks };
  }

  /** The aggregate without waiting, when no check needs to run (fresh cache, or not serving); else undefined. */
  reportNow(): HealthReport | undefined {
    const state = this.#app.state();
    if (serving(state)) {
      const ttl = this.#ttl();
      if (!this.#last || performance.now() - this.#last.at >= ttl) return undefined;
    }
    const checks = this.lastResults;
    return { status: healthStatus(state, checks), state, checks };
  }

  /** Liveness looks at the process only: it fails only when the app has failed. */
  liveness(): ProbeAnswer {
    const failed = this.#app.state() === 'failed';
    return { ok: !failed, body: { status: failed ? 'failed' : 'ok' } };
  }

  /** Startup: fine once startup has finished, for the rest of the process's life. */
  startup(): ProbeAnswer {
    const state = this.#app.state();
    if (state === 'failed') return { ok: false, body: { status: 'failed' } };
    return this.#startupFinished ? { ok: true, body: { status: 'started' } } : { ok: false, body: { status: 'starting' } };
  }

  /** Called after every round of checks (metrics observe latencies here). */
  onResults(listener: ResultsListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Also runs the checks every `intervalMs` while the app serves, so logs and metrics follow outages. */
  startPolling(intervalMs: number): void {
    if (intervalMs <= 0 || this.#poller) return;
    this.#poller = setInterval(() => {
      if (serving(this.#app.state())) this.checks().catch(() => undefined);
    }, intervalMs);
    this.#poller.unref();
  }

  stopPolling(): void {
    clearInterval(this.#poller);
    this.#poller = undefined;
  }

  #ttl(): number {
    return this.#app.runtime()?.core.healthCacheTtl ?? 0;
  }

  async #runAll(): Promise<CheckResults> {
    this.#runs += 1;
    const components = (this.#app.runtime()?.components ?? []).filter(hasHealth);
    const outcomes = await Promise.all(components.map(async (c) => [c.id, await runHealthCheck(c)] as const));
    const known = [...this.#known].map((source) => source());
    const results: CheckResults = Object.assign(Object.fromEntries(outcomes), ...known) as CheckResults;
    this.#logTransitions(this.#last?.results, results);
    this.#last = { at: performance.now(), results };
    for (const listener of this.#listeners) {
      try {
        listener(results);
      } catch {
        // An observer must not break the probes.
      }
    }
    return results;
  }

  #logTransitions(before: CheckResults | undefined, after: CheckResults): void {
    const logger = this.#app.runtime()?.logger;
    if (!logger) return;
    for (const [id, result] of Object.entries(after)) {
      const previous = before?.[id]?.status;
      if (result.status === previous) continue;
      if (result.status === 'down') {
        logger.warn({ check: id, critical: result.critical, error: result.error, latencyMs: result.latencyMs }, `health check ${id} down`);
      } else if (previous === 'down') {
        logger.info({ check: id, latencyMs: result.latencyMs }, `health check ${id} up again`);
      }
    }
  }
}
