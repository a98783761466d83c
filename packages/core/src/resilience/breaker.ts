import { performance } from 'node:perf_hooks';
import {
  BrokenCircuitError,
  CircuitState,
  ConsecutiveBreaker,
  SamplingBreaker,
  circuitBreaker,
  handleAll,
  handleWhen,
  type IBreaker,
} from 'cockatiel';
import { BreakerOpenError, OperationTimeoutError } from '../errors.js';
import { messageOf } from '../message-of.js';
import { CallDeadlines } from './call-deadlines.js';

export interface ErrorRatioOptions {
  /** Share of failed calls (0 < threshold ≤ 1) within the window that opens the breaker. */
  readonly threshold: number;
  /** Sliding window (ms). Default 10 000. */
  readonly windowMs?: number;
  /** Calls per second below which the ratio is not judged (too few to tell). Default 5. */
  readonly minimumRps?: number;
}

export interface BreakerOptions {
  /** A call slower than this fails with `OperationTimeoutError` (it is abandoned, not cancelled) and counts as a failure. */
  readonly timeoutMs: number;
  /** Consecutive failures, timeouts included, that open the breaker. Default 5. */
  readonly consecutiveFailures?: number;
  /** Also opens when this share of calls fails; off by default. */
  readonly errorRatio?: ErrorRatioOptions;
  /** How long it stays open before one trial call is let through. Default 5000. */
  readonly halfOpenAfterMs?: number;
  /**
   * Which errors count against the breaker (default: all). Others pass through without
   * counting either way: a dependency that is down may have its own handling.
   */
  readonly isFailure?: (error: unknown) => boolean;
}

export type BreakerState = 'closed' | 'open' | 'halfOpen';

/**
 * Guards calls to a dependency that can be slow as well as down: too many failures or
 * timeouts open it, calls then fail at once with `BreakerOpenError` until a trial call
 * (half-open) succeeds.
 */
export interface Breaker {
  /** `<prefix>.<name>`, as health and logs name it. */
  readonly id: string;
  readonly state: BreakerState;
  execute<T>(call: () => Promise<T>): Promise<T>;
}

/** A state change, for health, metrics, logs and lifecycle events. */
export interface BreakerChange {
  readonly breaker: Breaker;
  readonly name: string;
  readonly from: BreakerState;
  readonly to: BreakerState;
  /** Why it opened: the last failure. */
  readonly reason: string | undefined;
  /** How long it was not closed, on the change back to closed (ms). */
  readonly openMs: number | undefined;
}

const STATES: Record<CircuitState, BreakerState> = {
  [CircuitState.Closed]: 'closed',
  [CircuitState.Open]: 'open',
  [CircuitState.HalfOpen]: 'halfOpen',
  [CircuitState.Isolated]: 'open',
};

/** Opens when any of its breakers would. */
class AnyOf implements IBreaker {
  constructor(readonly breakers: readonly IBreaker[]) {}
  get state(): unknown {
    return this.breakers.map((b) => b.state);
  }
  set state(value: unknown) {
    if (Array.isArray(value)) this.breakers.forEach((b, i) => (b.state = value[i]));
  }
  success(state: CircuitState): void {
    for (const breaker of this.breakers) breaker.success(state);
  }
  failure(state: CircuitState): boolean {
    let open = false;
    for (const breaker of this.breakers) open = breaker.failure(state) || open;
    return open;
  }
}

/** What a breaker reports as it works. */
export interface BreakerObserver {
  change(change: BreakerChange): void;
  /** A call was refused because the breaker is open. */
  refused(): void;
  /** A call was cut off at `timeoutMs`. */
  timedOut(): void;
}

/** Builds a breaker over cockatiel's circuit breaker; one shared timer bounds the calls. */
export function createBreaker(id: string, name: string, options: BreakerOptions, observer: BreakerObserver): Breaker {
  const breakers: IBreaker[] = [new ConsecutiveBreaker(options.consecutiveFailures ?? 5)];
  const ratio = options.errorRatio;
  if (ratio) breakers.push(new SamplingBreaker({ threshold: ratio.threshold, duration: ratio.windowMs ?? 10_000, minimumRps: ratio.minimumRps ?? 5 }));
  const isFailure = options.isFailure;
  const circuit = circuitBreaker(isFailure ? handleWhen((error) => isFailure(error)) : handleAll, { halfOpenAfter: options.halfOpenAfterMs ?? 5000, breaker: breakers.length === 1 ? (breakers[0] as IBreaker) : new AnyOf(breakers) });
  const deadlines = new CallDeadlines(options.timeoutMs);
  let state: BreakerState = 'closed';
  let leftClosedAt = 0;
  let reason: string | undefined;
  const breaker: Breaker = {
    id,
    get state() {
      return state;
    },
    async execute<T>(call: () => Promise<T>): Promise<T> {
      try {
        return await circuit.execute(() => deadlines.track(call()));
      } catch (error) {
        if (error instanceof BrokenCircuitError) {
          observer.refused();
          throw new BreakerOpenError(id);
        }
        if (OperationTimeoutError.is(error)) observer.timedOut();
        throw error;
      }
    },
  };
  circuit.onFailure(({ reason: failure }) => {
    if ('error' in failure) reason = messageOf(failure.error);
  });
  circuit.onStateChange((next) => {
    const from = state;
    const to = STATES[next];
    if (from === to) return;
    state = to;
    if (from === 'closed') leftClosedAt = performance.now();
    observer.change({ breaker, name, from, to, reason: to === 'closed' ? undefined : reason, openMs: to === 'closed' ? performance.now() - leftClosedAt : undefined });
  });
  return breaker;
}
