import { messageOf, type Logger } from '@plinth/core';
import { Backoff, sleep } from '@plinth/core/lifecycle';
import type { ConsulClient } from './consul-client.js';
import { healthyInstances, sameInstances, type ServiceInstance } from './instance.js';
import type { WatchListener } from './discovery.js';

export interface ServiceWatchOptions {
  readonly service: string;
  readonly client: ConsulClient;
  readonly waitMs: number;
  readonly requestTimeoutMs: number;
  readonly logger: Logger;
  /** Aborts when the plugin stops. */
  readonly signal: AbortSignal;
  /** Told whether the agent answered the last query. */
  readonly onReachability?: (reachable: boolean, error?: unknown) => void;
}

/** Never two queries closer than this: a loop that returns at once must not spin. */
const MIN_QUERY_SPACING_MS = 50;
const RETRY_BACKOFF = { initialDelayMs: 100, maxDelayMs: 5000 };

type Outcome = { readonly ok: true } | { readonly ok: false; readonly error: unknown };

/**
 * The cached instances of one service, kept fresh by one blocking query at a time, as
 * https://developer.hashicorp.com/consul/api-docs/features/blocking describes it:
 *   - each query sends the last `X-Consul-Index` and a `wait` shortened by up to 1/16 at
 *     random, so the watches of many replicas do not renew in step;
 *   - an index lower than the last one resets the index to 0: the watch restarts with a
 *     non-blocking query;
 *   - an index of 0 is never sent back as is (it would not block): 1 is, which is always safe;
 *   - queries are spaced by at least 50 ms, so a misbehaving agent cannot make it spin.
 * When the agent is unreachable the last list stays (stale) and queries are retried with
 * jittered backoff; the first one after an outage does not block, so the list is confirmed
 * (or replaced) as soon as the agent answers.
 */
export class ServiceWatch {
  #instances: readonly ServiceInstance[] | undefined;
  #updatedAt = 0;
  #error: unknown;
  #index = 0;
  readonly #listeners = new Set<WatchListener>();
  readonly #outcomeWaiters = new Set<(outcome: Outcome) => void>();
  readonly #options: ServiceWatchOptions;

  constructor(options: ServiceWatchOptions) {
    this.#options = options;
    void this.#run();
  }

  get instances(): readonly ServiceInstance[] | undefined {
    return this.#instances;
  }

  get updatedAt(): number {
    return this.#updatedAt;
  }

  /** The failure of the last query, while the agent cannot be reached. */
  get error(): unknown {
    return this.#error;
  }

  /** The index the next query sends (0: a fresh, non-blocking query). */
  get index(): number {
    return this.#index;
  }

  /** Resolves after the next query succeeds or fails. */
  nextOutcome(): Promise<Outcome> {
    return new Promise((resolve) => this.#outcomeWaiters.add(resolve));
  }

  subscribe(listener: WatchListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  async #run(): Promise<void> {
    const { client, service, waitMs, requestTimeoutMs, logger, signal } = this.#options;
    const backoff = new Backoff(RETRY_BACKOFF);
    while (!signal.aborted) {
      const started = performance.now();
      const wait = waitMs - Math.random() * (waitMs / 16);
      try {
        // The agent may add up to wait/16 itself before answering.
        const answer = await client.health(service, this.#index, wait, signal, this.#index > 0 ? wait + wait / 16 + requestTimeoutMs : requestTimeoutMs);
        this.#accept(healthyInstances(answer.entries), answer.index);
        if (this.#error !== undefined) logger.info({ service }, `Consul answers again: watch of "${service}" is live`);
        this.#error = undefined;
        this.#options.onReachability?.(true);
        backoff.reset();
        this.#settle({ ok: true });
        await sleep(Math.max(0, MIN_QUERY_SPACING_MS - (performance.now() - started)), signal);
      } catch (error) {
        if (signal.aborted) break;
        if (this.#error === undefined) {
          logger.warn({ service, err: messageOf(error), cachedInstances: this.#instances?.length }, `Consul watch of "${service}" failed: serving the last known list`);
        }
        this.#error = error;
        // The first query after an outage must not block: it confirms the list at once.
        this.#index = 0;
        this.#options.onReachability?.(false, error);
        this.#settle({ ok: false, error });
        await sleep(backoff.next(), signal).catch(() => undefined);
      }
    }
    this.#settle({ ok: false, error: signal.reason });
  }

  #accept(instances: ServiceInstance[], index: number | undefined): void {
    const previous = this.#index;
    if (index === undefined) this.#index = 0;
    else if (index === 0) this.#index = 1;
    else if (index < previous) this.#index = 0;
    else this.#index = index;
    this.#updatedAt = Date.now();
    if (this.#instances !== undefined && sameInstances(this.#instances, instances)) return;
    this.#instances = instances;
    for (const listener of [...this.#listeners]) {
      try {
        listener(instances);
      } catch (error) {
        this.#options.logger.error({ service: this.#options.service, err: messageOf(error) }, 'a Consul watch listener threw');
      }
    }
  }

  #settle(outcome: Outcome): void {
    const waiters = [...this.#outcomeWaiters];
    this.#outcomeWaiters.clear();
    for (const resolve of waiters) resolve(outcome);
  }
}
