import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import type { LifecycleComponent } from '../lifecycle/component.js';
import type { AppState } from '../lifecycle/events.js';
import type { AppEventEmitter } from '../lifecycle/typed-emitter.js';

/**
 * The app's state: every change is logged and emitted as a `state` event. While the app
 * serves, it moves between `ready` and `degraded` as plugins lose and regain availability.
 */
export class AppStateMachine {
  #state: AppState = 'created';
  readonly #events: AppEventEmitter;
  readonly #logger: () => Logger | undefined;

  constructor(events: AppEventEmitter, logger: () => Logger | undefined) {
    this.#events = events;
    this.#logger = logger;
  }

  get current(): AppState {
    return this.#state;
  }

  set(to: AppState, reason?: string): void {
    const from = this.#state;
    if (from === to) return;
    this.#state = to;
    this.#logger()?.info({ from, to, reason }, `state ${to}`);
    this.#events.emit('state', { from, to, at: performance.now(), reason });
  }

  /** `ready`, or `degraded` naming the plugins that are unavailable. */
  settle(components: readonly LifecycleComponent[], recovered?: string): void {
    const down = components.filter((c) => c.availability && !c.availability.available).map((c) => c.id);
    this.set(down.length ? 'degraded' : 'ready', down.length ? `unavailable: ${down.join(', ')}` : recovered);
  }

  /** From now on, follow the plugins' availability while serving. */
  followAvailability(components: readonly LifecycleComponent[]): void {
    for (const component of components) {
      component.availability?.onChange(() => {
        if (this.#state === 'ready' || this.#state === 'degraded') this.settle(components, 'all plugins available');
      });
    }
  }
}
