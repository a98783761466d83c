import type { LifecycleEvent, StateChange } from '../lifecycle/events.js';

export interface PhaseTiming {
  readonly component: string;
  readonly kind: 'plugin' | 'service';
  readonly phase: string;
  readonly outcome: string;
  /** From the first attempt's start to the final outcome, retries and backoff included. */
  readonly seconds: number;
}

const NOT_FINAL = new Set(['begin', 'retrying']);

/** Events kept as they come before they are folded into the timings: startup and shutdown of a large app. */
const FOLD_AFTER = 256;

/**
 * Remembers how long each component's phases took and how startup went, from the app's
 * lifecycle and state events, read at scrape time. An event is only kept when it comes
 * (startup alone sends four per component); they are folded into the timings when read,
 * or once enough have piled up, so an app nothing scrapes does no more than that.
 */
export class LifecycleTimings {
  readonly #firstBegin = new Map<string, number>();
  readonly #phases = new Map<string, PhaseTiming>();
  readonly #outcomes = new Map<string, { component: string; phase: string; outcome: string; count: number }>();
  readonly #pending: LifecycleEvent[] = [];
  #startingAt: number | undefined;
  #startupSeconds: number | undefined;

  recordEvent(event: LifecycleEvent): void {
    this.#pending.push(event);
    if (this.#pending.length >= FOLD_AFTER) this.#fold();
  }

  #fold(): void {
    for (const event of this.#pending) this.#apply(event);
    this.#pending.length = 0;
  }

  #apply(event: LifecycleEvent): void {
    const key = `${event.component}\u0000${event.phase}`;
    if (event.outcome === 'begin') {
      if (!this.#firstBegin.has(key)) this.#firstBegin.set(key, event.at);
      return;
    }
    if (NOT_FINAL.has(event.outcome)) return;
    const began = this.#firstBegin.get(key);
    this.#firstBegin.delete(key);
    const ms = began === undefined ? (event.durationMs ?? 0) : event.at - began;
    this.#phases.set(key, { component: event.component, kind: event.kind, phase: event.phase, outcome: event.outcome, seconds: ms / 1000 });
    const outcomeKey = `${key}\u0000${event.outcome}`;
    const seen = this.#outcomes.get(outcomeKey);
    if (seen) seen.count += 1;
    else this.#outcomes.set(outcomeKey, { component: event.component, phase: event.phase, outcome: event.outcome, count: 1 });
  }

  recordState(change: StateChange): void {
    if (change.to === 'starting') this.#startingAt = change.at;
    if ((change.to === 'ready' || change.to === 'degraded') && this.#startingAt !== undefined && this.#startupSeconds === undefined) {
      this.#startupSeconds = (change.at - this.#startingAt) / 1000;
    }
  }

  /** The latest duration of every phase each component went through. */
  phases(): readonly PhaseTiming[] {
    this.#fold();
    return [...this.#phases.values()];
  }

  /** How often each phase ended with each outcome. */
  outcomes(): readonly { component: string; phase: string; outcome: string; count: number }[] {
    this.#fold();
    return [...this.#outcomes.values()];
  }

  /** From `starting` to the first `ready`/`degraded`; undefined before that. */
  get startupSeconds(): number | undefined {
    return this.#startupSeconds;
  }
}
