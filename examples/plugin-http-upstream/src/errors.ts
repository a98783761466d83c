import { PlinthError } from '@plinth/core';

/**
 * The upstream answered with an error status (after retries, where the status allows them).
 * `UpstreamError.is(error)` works across copies of this package.
 */
export class UpstreamError extends PlinthError {
  static override readonly brand: symbol = Symbol.for('plinth.error.UpstreamError');
  override readonly name = 'UpstreamError';
  constructor(
    readonly status: number,
    readonly method: string,
    readonly path: string,
  ) {
    super(`${method} ${path} answered ${status}`);
  }
}

/** Statuses a retry can outlast: the upstream is restarting or overloaded. */
export function isRetryableStatus(status: number): boolean {
  return status === 502 || status === 503 || status === 504;
}
