/**
 * The numbers that decide whether a rolling restart drops a request. HAProxy must take a
 * replica out of rotation (its `/health/ready` turned 503 at SIGTERM) well before the
 * replica stops listening, which it does after its shutdown delay.
 */
export interface ClusterTimings {
  /** HAProxy's health check period (`inter`). */
  readonly checkIntervalMs: number;
  /** A check with no answer this long counts as failed (`timeout check`). */
  readonly checkTimeoutMs: number;
  /** Failed checks in a row that take a replica out of rotation. */
  readonly fall: number;
  /** Passed checks in a row that put a replica (back) in rotation. */
  readonly rise: number;
  /** `EXAMPLE_SERVICE_SHUTDOWN_DELAY`: the replica keeps serving this long after SIGTERM. */
  readonly shutdownDelayMs: number;
}

export const defaultTimings: ClusterTimings = {
  checkIntervalMs: 250,
  checkTimeoutMs: 500,
  fall: 2,
  rise: 2,
  shutdownDelayMs: 3000,
};

/** The longest HAProxy can take to notice a replica went unready: `fall` checks, each timing out. */
export function removalBoundMs(timings: ClusterTimings): number {
  return timings.fall * (timings.checkIntervalMs + timings.checkTimeoutMs);
}

/** Throws unless the shutdown delay leaves HAProxy twice the time it needs to stop routing. */
export function assertTimingsFit(timings: ClusterTimings): void {
  const bound = removalBoundMs(timings);
  if (timings.shutdownDelayMs < 2 * bound) {
    throw new Error(
      `shutdown delay ${timings.shutdownDelayMs} ms is less than twice HAProxy's removal bound ` +
        `(${timings.fall} × (${timings.checkIntervalMs} + ${timings.checkTimeoutMs}) ms = ${bound} ms): requests would reach a closed listener`,
    );
  }
}
