/**
 * The abort of a start in progress. Node builds an AbortSignal (an EventTarget) the first
 * time one is asked for, at a cost a start of hookless services would pay for nothing:
 * whether and why it aborted is read here without it, and `signal` is built only for a
 * hook that runs.
 */
export class StartAbort<Reason = unknown> {
  readonly #controller = new AbortController();
  #aborted = false;
  #reason: Reason | undefined;

  get aborted(): boolean {
    return this.#aborted;
  }

  get reason(): Reason | undefined {
    return this.#reason;
  }

  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /** The first reason wins, as with an AbortController. */
  abort(reason: Reason): void {
    if (this.#aborted) return;
    this.#aborted = true;
    this.#reason = reason;
    this.#controller.abort(reason);
  }
}
