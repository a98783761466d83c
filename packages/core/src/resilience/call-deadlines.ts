import { performance } from 'node:perf_hooks';
import { OperationTimeoutError } from '../errors.js';

interface Pending {
  readonly deadline: number;
  readonly reject: (error: Error) => void;
}

/**
 * Bounds calls that all have the same timeout with one timer: the oldest pending call is
 * always the first to be late. A timer, an AbortController and a race per call would cost
 * more than a cache read; this costs a set entry. A late call rejects with
 * `OperationTimeoutError` and is abandoned, not cancelled.
 */
export class CallDeadlines {
  /** Insertion order is deadline order. */
  readonly #pending = new Set<Pending>();
  readonly #timeoutMs: number;
  #timer: NodeJS.Timeout | undefined;

  constructor(timeoutMs: number) {
    this.#timeoutMs = timeoutMs;
  }

  track<T>(call: Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const entry: Pending = { deadline: performance.now() + this.#timeoutMs, reject };
      this.#pending.add(entry);
      this.#arm(entry.deadline);
      call.then(
        (value) => {
          this.#pending.delete(entry);
          resolve(value);
        },
        (error: unknown) => {
          this.#pending.delete(entry);
          reject(error as Error);
        },
      );
    });
  }

  #arm(deadline: number): void {
    if (this.#timer !== undefined) return;
    this.#timer = setTimeout(() => this.#expire(), Math.max(0, deadline - performance.now()));
    this.#timer.unref();
  }

  #expire(): void {
    this.#timer = undefined;
    // Timers may fire up to a millisecond early.
    const now = performance.now() + 1;
    for (const entry of this.#pending) {
      if (entry.deadline > now) return this.#arm(entry.deadline);
      this.#pending.delete(entry);
      entry.reject(new OperationTimeoutError(this.#timeoutMs));
    }
  }
}
