import { performance } from 'node:perf_hooks';
import { OperationTimeoutError } from '@plinth/core/lifecycle';

interface Pending {
  readonly deadline: number;
  readonly reject: (error: Error) => void;
}

/**
 * Bounds every command in flight on one connection with a single timer. Redis answers a
 * connection's commands in order, so the oldest unanswered command is always the first to
 * be late, and when it is, the connection is wedged: every pending command fails and
 * `onLate` runs (the owner drops the connection).
 *
 * A timer per command would cost more than the command: node-redis' own per-command
 * timeout (an AbortSignal.timeout each) triples the CPU time of a GET, and it stops
 * counting once a command is written, so it cannot catch a server that stopped answering.
 */
export class CommandDeadlines {
  /** Insertion order is issue order: the first entry is the oldest. */
  readonly #pending = new Set<Pending>();
  readonly #timeoutMs: number;
  readonly #onLate: () => void;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(timeoutMs: number, onLate: () => void) {
    this.#timeoutMs = timeoutMs;
    this.#onLate = onLate;
  }

  get size(): number {
    return this.#pending.size;
  }

  /** Settles like `command`, or rejects with OperationTimeoutError once the oldest pending command is late. */
  track<T>(command: Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const entry: Pending = { deadline: performance.now() + this.#timeoutMs, reject };
      this.#pending.add(entry);
      this.#arm(entry.deadline);
      command.then(
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

  /** Stops the timer; pending commands settle with their connection. */
  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #arm(deadline: number): void {
    if (this.#timer !== undefined || this.#closed) return;
    this.#timer = setTimeout(() => this.#check(), Math.max(0, deadline - performance.now()));
    // Pending commands keep the process alive through their socket; an idle timer must not.
    this.#timer.unref();
  }

  #check(): void {
    this.#timer = undefined;
    const oldest = this.#pending.values().next();
    if (oldest.done) return;
    // Timers may fire up to a millisecond early.
    if (oldest.value.deadline > performance.now() + 1) return this.#arm(oldest.value.deadline);
    const late = [...this.#pending];
    this.#pending.clear();
    const error = new OperationTimeoutError(this.#timeoutMs);
    for (const entry of late) entry.reject(error);
    this.#onLate();
  }
}
