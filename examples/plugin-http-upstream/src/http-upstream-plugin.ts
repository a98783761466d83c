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
import {
  circuitBreaker,
  CircuitState,
  ConsecutiveBreaker,
  ExponentialBackoff,
  handleWhen,
  isBrokenCircuitError,
  retry,
  wrap,
  type IPolicy,
} from 'cockatiel';
import { isRetryableStatus, UpstreamError } from './errors.js';
import { notFoundFake, type FakeUpstream, type UpstreamResponse } from './fake.js';
import type { HttpUpstreamSettings } from './settings.js';
import { Transport } from './transport.js';

/** Code options of `httpUpstream(prefix, options)`. */
export interface HttpUpstreamOptions {
  /** Answers requests in embedded mode (no URL set); by default 404 for all but the health path. */
  readonly fake?: FakeUpstream;
}

export type CircuitStateName = 'closed' | 'open' | 'halfOpen' | 'isolated';

/** What the plugin counted since it started, for a metrics endpoint or a test. */
export interface HttpUpstreamStats {
  readonly circuit: CircuitStateName;
  readonly calls: number;
  readonly failedAttempts: number;
  readonly retries: number;
}

const STATE_NAMES: Record<CircuitState, CircuitStateName> = {
  [CircuitState.Closed]: 'closed',
  [CircuitState.Open]: 'open',
  [CircuitState.HalfOpen]: 'halfOpen',
  [CircuitState.Isolated]: 'isolated',
};

type Context = PluginContext<SettingsOf<HttpUpstreamSettings>, HttpUpstreamOptions>;

/**
 * A client for one HTTP upstream. Calls go through retries (connection errors, timeouts,
 * 502/503/504) inside a circuit breaker: after `BREAKER_FAILURES` failed calls in a row the
 * circuit opens, the plugin reports itself unavailable (the app is degraded, calls fail fast
 * with `PluginUnavailableError`), and one trial call after `BREAKER_COOLDOWN` closes it again.
 */
export class HttpUpstreamPlugin implements PreStart, OnStop, HealthCheck, PluginTarget {
  readonly #ctx: Context;
  readonly #policy: IPolicy;
  readonly #breaker;
  readonly #lifetime = new AbortController();
  readonly #fake: FakeUpstream;
  #transport: Transport | undefined;
  #started = false;
  #stopping: Promise<void> | undefined;
  #stats = { calls: 0, failedAttempts: 0, retries: 0 };

  constructor(ctx: Context) {
    this.#ctx = ctx;
    this.#fake = ctx.options.fake ?? notFoundFake(ctx.config.healthPath);
    const transient = handleWhen((error) => this.#isTransient(error));
    this.#breaker = circuitBreaker(transient, {
      halfOpenAfter: ctx.config.breakerCooldown,
      breaker: new ConsecutiveBreaker(ctx.config.breakerFailures),
    });
    const retries = retry(transient, {
      maxAttempts: ctx.config.retries,
      backoff: new ExponentialBackoff({ initialDelay: 50, maxDelay: 1000 }),
    });
    retries.onRetry(() => this.#stats.retries++);
    this.#policy = wrap(retries, this.#breaker);
    this.#breaker.onBreak(() => ctx.availability.markUnavailable(`circuit open after ${ctx.config.breakerFailures} failed calls in a row`));
    this.#breaker.onReset(() => ctx.availability.markAvailable());
  }

  /** True when no URL is set and the fake answers. */
  get embedded(): boolean {
    return this.#ctx.embedded;
  }

  /** Where calls go, for logs and errors: host and base path, never credentials. */
  get target(): string {
    const url = this.#ctx.config.url;
    if (url === undefined || this.embedded) return 'embedded fake';
    const parsed = new URL(url);
    return `${parsed.host}${parsed.pathname.replace(/\/$/, '')}`;
  }

  get circuit(): CircuitStateName {
    return STATE_NAMES[this.#breaker.state];
  }

  get stats(): HttpUpstreamStats {
    return { circuit: this.circuit, ...this.#stats };
  }

  async preStart({ signal }: HookContext): Promise<void> {
    const { url, healthPath } = this.#ctx.config;
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
    const { healthPath } = this.#ctx.config;
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
    const signals = [this.#lifetime.signal, ...(options.signal ? [options.signal] : [])];
    try {
      return (await this.#policy.execute(async ({ signal }) => {
        const attempt = AbortSignal.any([signal, AbortSignal.timeout(this.#ctx.config.timeout), ...signals]);
        try {
          const response = await this.#send(method, path, body, attempt);
          if (isRetryableStatus(response.status)) throw new UpstreamError(response.status, method, path);
          return response;
        } catch (error) {
          this.#stats.failedAttempts++;
          throw error;
        }
      }, AbortSignal.any(signals))) as UpstreamResponse<T>;
    } catch (error) {
      if (isBrokenCircuitError(error)) {
        throw new PluginUnavailableError('http-upstream', this.#ctx.prefix, this.#ctx.availability.reason ?? 'circuit open');
      }
      throw error;
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
    const token = this.#ctx.config.token;
    return this.#transport.send(method, path, body, token ? { authorization: `Bearer ${token}` } : {}, signal);
  }

  /** Worth another attempt: the upstream was unreachable, slow, or briefly unavailable. */
  #isTransient(error: unknown): boolean {
    if (this.#lifetime.signal.aborted) return false;
    if (UpstreamError.is(error)) return isRetryableStatus(error.status);
    const code = (error as { code?: unknown; name?: unknown }).code ?? (error as { name?: unknown }).name;
    return typeof code === 'string' && /^(ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT|EHOSTUNREACH|ENOTFOUND|EAI_AGAIN|UND_ERR_SOCKET|ABORT_ERR|AbortError|TimeoutError)$/.test(code);
  }
}
