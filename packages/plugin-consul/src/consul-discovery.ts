import type { Logger } from '@plinth/core';
import { raceAbort } from '@plinth/core/lifecycle';
import type { ConsulClient } from './consul-client.js';
import type { Discovery, WatchListener } from './discovery.js';
import type { Resolution } from './instance.js';
import { ServiceWatch } from './service-watch.js';

export interface ConsulDiscoveryOptions {
  readonly client: ConsulClient;
  readonly waitMs: number;
  readonly requestTimeoutMs: number;
  readonly logger: Logger;
  /** Turns a failure into the error `lookup` throws when there is nothing cached. */
  readonly unavailable: (reason: string, cause: unknown) => Error;
  readonly onReachability?: (reachable: boolean, error?: unknown) => void;
}

/** One ServiceWatch per service asked for; they run until the plugin stops. */
export class ConsulDiscovery implements Discovery {
  readonly #watches = new Map<string, ServiceWatch>();
  readonly #lifetime = new AbortController();
  readonly #options: ConsulDiscoveryOptions;

  constructor(options: ConsulDiscoveryOptions) {
    this.#options = options;
  }

  async lookup(service: string, signal: AbortSignal): Promise<Resolution> {
    if (this.#lifetime.signal.aborted) throw this.#options.unavailable(`cannot list "${service}"`, this.#lifetime.signal.reason);
    const watch = this.#watch(service);
    if (watch.instances === undefined) {
      // Nothing cached: a watch that already failed fails fast; a new one gets its first answer.
      const outcome = watch.error === undefined ? await raceAbort(watch.nextOutcome(), signal) : { ok: false as const, error: watch.error };
      if (!outcome.ok) throw this.#options.unavailable(`cannot list "${service}" and nothing is cached`, outcome.error);
    }
    const stale = watch.error !== undefined;
    return {
      instances: watch.instances ?? [],
      updatedAt: watch.updatedAt,
      stale,
      ageMs: stale ? Date.now() - watch.updatedAt : 0,
    };
  }

  subscribe(service: string, listener: WatchListener): () => void {
    const watch = this.#watch(service);
    const unsubscribe = watch.subscribe(listener);
    if (watch.instances !== undefined) listener(watch.instances);
    return unsubscribe;
  }

  /** Watched services whose agent cannot be reached right now. */
  get staleServices(): string[] {
    return [...this.#watches].filter(([, watch]) => watch.error !== undefined).map(([service]) => service);
  }

  close(): void {
    this.#lifetime.abort(new Error('the Consul plugin stopped'));
  }

  #watch(service: string): ServiceWatch {
    let watch = this.#watches.get(service);
    if (watch === undefined) {
      const { client, waitMs, requestTimeoutMs, logger, onReachability } = this.#options;
      watch = new ServiceWatch({ service, client, waitMs, requestTimeoutMs, logger, onReachability, signal: this.#lifetime.signal });
      this.#watches.set(service, watch);
    }
    return watch;
  }
}
