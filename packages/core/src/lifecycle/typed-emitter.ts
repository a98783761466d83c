import { EventEmitter } from 'node:events';
import type { LifecycleEvent, StateChange } from './events.js';

export interface AppEvents {
  lifecycle: LifecycleEvent;
  state: StateChange;
}

/** A thin typed face over EventEmitter; listener errors are not the app's problem. */
export class AppEventEmitter {
  readonly #emitter = new EventEmitter();

  on<K extends keyof AppEvents>(event: K, listener: (payload: AppEvents[K]) => void): () => void {
    this.#emitter.on(event, listener);
    return () => this.#emitter.off(event, listener);
  }

  emit<K extends keyof AppEvents>(event: K, payload: AppEvents[K]): void {
    for (const listener of this.#emitter.listeners(event)) {
      try {
        (listener as (payload: AppEvents[K]) => void)(payload);
      } catch {
        // A throwing listener must not break startup or shutdown.
      }
    }
  }
}
