import { performance } from 'node:perf_hooks';
import { OperationTimeoutError } from '../errors.js';

interface Pending {
  readonly deadline: number;
  readonly reject: (error: Error) => void;
}

export interface CallDeadlinesOptions {
  /**
   * When the oldest call is late, fail every pending call with it: for calls answered in
   * order on one connection (Redis), where a late oldest call means the connection is
   * wedged and the rest can only be later.
   */
  readonly lateFailsAll?: boolean;
  /** Runs once per expiry, after the late calls were rejected (drop the wedged connection). */
  readonly onLate?: () => void;
}

/**
 * Bounds calls that all have the same timeout with one timer: the oldest pending call is
 * always the first to be late. A timer, an AbortController and a race per call would cost
 * more than a cache read (node-redis' own per-command timeout triples a GET's CPU); this
 * costs a set entry. A late call rejects with `OperationTimeoutError` and is abandoned,
 * not cancelled.
 */
export class CallDeadlines {
  /** Insertion order is deadline order: the first entry is the oldest. */
  readonly #pending = new Set<Pending>();
  readonly #timeoutMs: number;
  readonly #options: CallDeadlinesOptions;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(timeoutMs: number, options: CallDeadlinesOptions = {}) {
    this.#timeoutMs = timeoutMs;
    this.#options = options;
  }

  /** Calls still pending. */
  get size(): number {
    return this.#pending.size;
  }

  /** Settles like `call`, or rejects with OperationTimeoutError once it is late. */
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

  /** Stops the timer; pending calls settle by themselves. */
  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #arm(deadline: number): void {
    if (this.#timer !== undefined || this.#closed) return;
    this.#timer = setTimeout(() => this.#expire(), Math.max(0, deadline - performance.now()));
    // Pending calls keep the process alive through their own I/O; an idle timer must not.
    this.#timer.unref();
  }

  #expire(): void {
    this.#timer = undefined;
    // Timers may fire up to a millisecond early.
    const now = performance.now() + 1;
    const late: Pending[] = [];
    for (const entry of this.#pending) {
      if (entry.deadline > now && !(this.#options.lateFailsAll && late.length > 0)) {
        this.#arm(entry.deadline);
        break;
      }
      late.push(entry);
    }
    if (late.length === 0) return;
    for (const entry of late) {
      this.#pending.delete(entry);
      entry.reject(new OperationTimeoutError(this.#timeoutMs));
    }
    this.#options.onLate?.();
  }
}
