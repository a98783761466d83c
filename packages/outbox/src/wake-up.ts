/**
 * Wakes the relay loop: a notification that arrives while a batch is running is kept, so
 * the loop looks again instead of sleeping past it.
 */
export class WakeUp {
  #pending = false;
  #resolve: (() => void) | undefined;

  /** Wakes the waiter now, or the next `wait` at once. */
  wake(): void {
    this.#pending = true;
    this.#resolve?.();
  }

  /** Resolves on `wake()`, after `ms`, or when `signal` aborts, whichever comes first. */
  wait(ms: number, signal: AbortSignal): Promise<void> {
    if (this.#pending || signal.aborted) {
      this.#pending = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        this.#resolve = undefined;
        this.#pending = false;
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal.addEventListener('abort', done, { once: true });
      this.#resolve = done;
    });
  }
}
