import {
  messageOf,
  NonRetryableError,
  PluginUnavailableError,
  type SettingsOf,
  type HealthCheck,
  type HealthCheckContext,
  type HookContext,
  type OnStop,
  type PluginContext,
  type PluginTarget,
  type PreStart,
} from '@plinth/core';
import { OperationTimeoutError } from '@plinth/core/lifecycle';
import { BreakerOpenError, type Breaker, type BreakerState, type PluginHistogram } from '@plinth/core/resilience';
import { ExponentialBackoff, handleWhen, retry, type RetryPolicy } from 'cockatiel';
import { isRetryableStatus, UpstreamError } from './errors.js';
import { notFoundFake, type FakeUpstream, type UpstreamResponse } from './fake.js';
import type { HttpUpstreamSettings } from './settings.js';
import { Transport } from './transport.js';

/** Code options of `httpUpstream(prefix, options)`. */
export interface HttpUpstreamOptions {
  /** Answers requests in embedded mode (no URL set); by default 404 for all but the health path. */
  readonly fake?: FakeUpstream;
}

export type CircuitStateName = BreakerState;

/** How a call ended, the `outcome` label of the request duration. */
type Outcome = 'ok' | 'error_status' | 'failed' | 'refused';

/** What the plugin counted since it started, for a metrics endpoint or a test. */
export interface HttpUpstreamStats {
  readonly circuit: CircuitStateName;
  readonly calls: number;
  readonly failedAttempts: number;
  readonly retries: number;
}

type Context = PluginContext<SettingsOf<HttpUpstreamSettings>, HttpUpstreamOptions>;

/**
 * A client for one HTTP upstream. Calls go through retries (connection errors, timeouts,
 * 502/503/504) around core's circuit breaker (`ctx.breaker`, so its state is in `/health`
 * and the `plinth_breaker_*` metrics): after `BREAKER_FAILURES` failed attempts in a row the
 * circuit opens, the plugin reports itself unavailable (the app is degraded, calls fail fast
 * with `PluginUnavailableError`), and one trial call after `BREAKER_COOLDOWN` closes it again.
 */
export class HttpUpstreamPlugin implements PreStart, OnStop, HealthCheck, PluginTarget {
  readonly #ctx: Context;
  readonly #retries: RetryPolicy;
  readonly #breaker: Breaker;
  readonly #duration: PluginHistogram<'outcome'>;
  readonly #lifetime = new AbortController();
  readonly #fake: FakeUpstream;
  #transport: Transport | undefined;
  #started = false;
  #circuitOpen = false;
  #stopping: Promise<void> | undefined;
  #stats = { calls: 0, failedAttempts: 0, retries: 0 };

  constructor(ctx: Context) {
    this.#ctx = ctx;
    this.#fake = ctx.options.fake ?? notFoundFake(ctx.settings.healthPath);
    // Only what a retry could outlast counts against the breaker: a 404 is an answer.
    this.#breaker = ctx.breaker('upstream', {
      timeoutMs: ctx.settings.timeout,
      consecutiveFailures: ctx.settings.breakerFailures,
      halfOpenAfterMs: ctx.settings.breakerCooldown,
      isFailure: (error) => this.#isTransient(error),
    });
    this.#retries = retry(
      handleWhen((error) => this.#isTransient(error)),
      { maxAttempts: ctx.settings.retries, backoff: new ExponentialBackoff({ initialDelay: 50, maxDelay: 1000 }) },
    );
    this.#retries.onRetry(() => this.#stats.retries++);
    this.#duration = ctx.metrics.histogram<'outcome'>({
      name: 'plinth_http_upstream_request_duration_seconds',
      help: 'Calls to the upstream, retries included, by outcome (ok, error_status, failed, refused)',
      labelNames: ['outcome'],
    });
  }

  /** True when no URL is set and the fake answers. */
  get embedded(): boolean {
    return this.#ctx.embedded;
  }

  /** Where calls go, for logs and errors: host and base path, never credentials. */
  get target(): string {
    const url = this.#ctx.settings.url;
    if (url === undefined || this.embedded) return 'embedded fake';
    const parsed = new URL(url);
    return `${parsed.host}${parsed.pathname.replace(/\/$/, '')}`;
  }

  get circuit(): CircuitStateName {
    return this.#breaker.state;
  }

  get stats(): HttpUpstreamStats {
    return { circuit: this.circuit, ...this.#stats };
  }

  async preStart({ signal }: HookContext): Promise<void> {
    const { url, healthPath } = this.#ctx.settings;
    if (!this.embedded && url !== undefined) this.#transport ??= new Transport(url);
    try {
      const { status } = await this.#send('GET', healthPath, undefined, signal);
      if (status === 401 || status === 403) {
        throw new NonRetryableError(`${this.target} refused the token (${status}): check the TOKEN setting of "${this.#ctx.prefix}"`);
      }
      if (status >= 400) throw new Error(`${this.target}${healthPath} answered ${status}`);
    } catch (error) {
      // A failed attempt keeps no socket: the next attempt starts from scratch.
      this.#transport?.close();
      this.#transport = undefined;
      if (NonRetryableError.is(error)) throw error;
      const reason = signal.aborted ? 'no answer before the start deadline' : messageOf(error);
      throw new Error(this.#ctx.redact(`http-upstream "${this.#ctx.prefix}" at ${this.target}: ${reason}`), { cause: error });
    }
    this.#started = true;
  }

  onStop(): Promise<void> {
    this.#stopping ??= Promise.resolve().then(() => {
      this.#started = false;
      this.#lifetime.abort(new Error('stopped'));
      this.#transport?.close();
    });
    return this.#stopping;
  }

  async healthCheck({ signal }: HealthCheckContext): Promise<void> {
    if (this.circuit === 'open') throw new Error(`${this.target}: circuit open (${this.#ctx.availability.reason ?? 'failing'})`);
    const { healthPath } = this.#ctx.settings;
    const { status } = await this.#send('GET', healthPath, undefined, signal);
    if (status >= 400) throw new Error(`${this.target}${healthPath} answered ${status} (circuit ${this.circuit})`);
  }

  /** GET `path` (relative to the base URL); the JSON body. Throws `UpstreamError` for a status ≥ 400. */
  async get<T>(path: string, options: { signal?: AbortSignal } = {}): Promise<T> {
    return this.#body<T>(await this.request<T>('GET', path, undefined, options), 'GET', path);
  }

  /** POST `body` as JSON; the JSON answer. Retried like any call: give the endpoint an idempotency key. */
  async post<T>(path: string, body: unknown, options: { signal?: AbortSignal } = {}): Promise<T> {
    return this.#body<T>(await this.request<T>('POST', path, body, options), 'POST', path);
  }

  /**
   * One call through the retry and circuit-breaker policy; the response whatever its status,
   * except 502/503/504 (retried, then `UpstreamError`). `PluginUnavailableError` while the
   * circuit is open or before start.
   */
  async request<T = unknown>(method: string, path: string, body?: unknown, options: { signal?: AbortSignal } = {}): Promise<UpstreamResponse<T>> {
    if (!this.#started) this.#ctx.availability.assertAvailable();
    this.#stats.calls++;
    const started = performance.now();
    let outcome: Outcome = 'failed';
    const signals = [this.#lifetime.signal, ...(options.signal ? [options.signal] : [])];
    try {
      const response = await this.#retries.execute(({ signal }) => this.#attempt(method, path, body, AbortSignal.any([signal, ...signals])), AbortSignal.any(signals));
      outcome = response.status >= 400 ? 'error_status' : 'ok';
      return response as UpstreamResponse<T>;
    } catch (error) {
      if (BreakerOpenError.is(error)) {
        outcome = 'refused';
        throw new PluginUnavailableError('http-upstream', this.#ctx.prefix, this.#ctx.availability.reason ?? 'circuit open', { cause: error });
      }
      if (UpstreamError.is(error)) outcome = 'error_status';
      throw error;
    } finally {
      this.#duration.observe({ outcome }, (performance.now() - started) / 1000);
    }
  }

  /** One attempt through the breaker, its socket cut at TIMEOUT; availability follows the circuit. */
  async #attempt(method: string, path: string, body: unknown, signal: AbortSignal): Promise<UpstreamResponse> {
    const { timeout } = this.#ctx.settings;
    try {
      return await this.#breaker.execute(async () => {
        const cut = AbortSignal.timeout(timeout);
        try {
          const response = await this.#send(method, path, body, AbortSignal.any([signal, cut]));
          if (isRetryableStatus(response.status)) throw new UpstreamError(response.status, method, path);
          return response;
        } catch (error) {
          // Our own cut at TIMEOUT (which closes the socket) is the breaker's timeout too, whichever timer fired first.
          if (cut.aborted && !signal.aborted) throw new OperationTimeoutError(timeout);
          throw error;
        }
      });
    } catch (error) {
      if (!BreakerOpenError.is(error)) this.#stats.failedAttempts++;
      throw error;
    } finally {
      this.#followCircuit();
    }
  }

  /** The circuit changes state only during a call, so checking after each one is enough. */
  #followCircuit(): void {
    const { availability, settings } = this.#ctx;
    const state = this.#breaker.state;
    if (state === 'open' && !this.#circuitOpen) {
      this.#circuitOpen = true;
      availability.markUnavailable(`circuit open after ${settings.breakerFailures} failed attempts in a row`);
    } else if (state === 'closed' && this.#circuitOpen) {
      this.#circuitOpen = false;
      availability.markAvailable();
    }
  }

  #body<T>(response: UpstreamResponse<T>, method: string, path: string): T {
    if (response.status >= 400) throw new UpstreamError(response.status, method, path);
    return response.body;
  }

  async #send(method: string, path: string, body: unknown, signal: AbortSignal): Promise<UpstreamResponse> {
    if (this.#transport === undefined) {
      signal.throwIfAborted();
      return this.#fake({ method, path, body });
    }
    const token = this.#ctx.settings.token;
    return this.#transport.send(method, path, body, token ? { authorization: `Bearer ${token}` } : {}, signal);
  }

  /** Worth another attempt: the upstream was unreachable, slow, or briefly unavailable. */
  #isTransient(error: unknown): boolean {
    if (this.#lifetime.signal.aborted) return false;
    if (UpstreamError.is(error)) return isRetryableStatus(error.status);
    if (OperationTimeoutError.is(error)) return true;
    const code = (error as { code?: unknown; name?: unknown }).code ?? (error as { name?: unknown }).name;
    return typeof code === 'string' && /^(ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT|EHOSTUNREACH|ENOTFOUND|EAI_AGAIN|UND_ERR_SOCKET|ABORT_ERR|AbortError|TimeoutError)$/.test(code);
  }
}
