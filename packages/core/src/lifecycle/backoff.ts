import { ExponentialBackoff, halfJitterGenerator, type IBackoff } from 'cockatiel';

export interface BackoffOptions {
  /** First delay in ms; later ones double, each jittered into the upper half of its step. */
  readonly initialDelayMs: number;
  /** Cap of the delay in ms. */
  readonly maxDelayMs: number;
}

/**
 * Delays for a reconnect loop: exponential growth capped at `maxDelayMs`, each delay a
 * random point in the upper half of its step, so replicas that lost the same server do not
 * retry in lockstep. (cockatiel's default decorrelated jitter clamps to exactly `maxDelay`
 * once saturated, which puts a long outage's retries back in lockstep.) The orchestrator
 * uses the same policy; plugins use it for their own loops.
 */
export function exponentialBackoff(options: BackoffOptions): ExponentialBackoff<unknown> {
  return new ExponentialBackoff({
    generator: halfJitterGenerator,
    initialDelay: options.initialDelayMs,
    maxDelay: options.maxDelayMs,
  });
}

/**
 * The delay before attempt `attempt` (1, 2, …) of a reconnect loop that counts its own
 * attempts: `initialDelayMs · 2^(attempt-1)` capped at `maxDelayMs`, jittered into the
 * upper half of that step (cockatiel's half-jitter generator).
 */
export function backoffDelay(options: BackoffOptions, attempt: number): number {
  const [delay] = halfJitterGenerator(Math.max(0, attempt - 1), {
    generator: halfJitterGenerator,
    initialDelay: options.initialDelayMs,
    maxDelay: options.maxDelayMs,
    exponent: 2,
  });
  return delay;
}

/** A stateful sequence of those delays, for loops that are not cockatiel policies. */
export class Backoff {
  readonly #factory: ExponentialBackoff<unknown>;
  #current: IBackoff<unknown> | undefined;

  constructor(readonly options: BackoffOptions) {
    this.#factory = exponentialBackoff(options);
  }

  /** The delay in ms before the next attempt. */
  next(): number {
    this.#current = this.#current ? this.#current.next(undefined) : this.#factory.next();
    return this.#current.duration;
  }

  /** Start again from the initial delay, e.g. after a successful reconnect. */
  reset(): void {
    this.#current = undefined;
  }
}

/** Resolves after `ms`, or rejects with the signal's reason as soon as it aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason as Error);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason as Error);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
