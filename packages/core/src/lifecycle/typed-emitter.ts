import type { LifecycleEvent, StateChange } from './events.js';

export interface AppEvents {
  lifecycle: LifecycleEvent;
  state: StateChange;
}

type AnyListener = (payload: never) => void;

/**
 * The app's events, typed; listener errors are not the app's problem. Each event's
 * listeners are an array replaced on every change, so an emit (a startup sends four per
 * component) reads the current one without copying it, and a listener added or removed
 * during an emit takes effect from the next one.
 */
export class AppEventEmitter {
  readonly #listeners = new Map<keyof AppEvents, readonly AnyListener[]>();

  on<K extends keyof AppEvents>(event: K, listener: (payload: AppEvents[K]) => void): () => void {
    this.#listeners.set(event, [...(this.#listeners.get(event) ?? []), listener]);
    return () => {
      const current = this.#listeners.get(event) ?? [];
      const index = current.lastIndexOf(listener);
      if (index >= 0) this.#listeners.set(event, [...current.slice(0, index), ...current.slice(index + 1)]);
    };
  }

  emit<K extends keyof AppEvents>(event: K, payload: AppEvents[K]): void {
    const listeners = this.#listeners.get(event);
    if (listeners === undefined) return;
    for (const listener of listeners) {
      try {
        (listener as (payload: AppEvents[K]) => void)(payload);
      } catch {
        // A throwing listener must not break startup or shutdown.
      }
    }
  }
}
