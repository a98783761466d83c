import { performance } from 'node:perf_hooks';
import type { LifecycleComponent } from '../lifecycle/component.js';

interface History {
  readonly component: LifecycleComponent;
  unavailableSince: number | undefined;
  unavailableMs: number;
  recoveries: number;
}

export interface AvailabilitySnapshot {
  readonly component: LifecycleComponent;
  /** Time spent unavailable since the app first served, the current outage included. */
  readonly unavailableSeconds: number;
  readonly recoveries: number;
}

/** How long each plugin has been unavailable and how often it recovered, from the time the app first served. */
export class AvailabilityHistory {
  readonly #histories = new Map<string, History>();

  /** Starts following the components not followed yet. */
  follow(components: readonly LifecycleComponent[]): void {
    for (const component of components) {
      const availability = component.availability;
      if (!availability || this.#histories.has(component.id)) continue;
      const history: History = { component, unavailableSince: availability.available ? undefined : performance.now(), unavailableMs: 0, recoveries: 0 };
      this.#histories.set(component.id, history);
      availability.onChange((available) => {
        const now = performance.now();
        if (!available) {
          history.unavailableSince ??= now;
          return;
        }
        if (history.unavailableSince === undefined) return;
        history.unavailableMs += now - history.unavailableSince;
        history.unavailableSince = undefined;
        history.recoveries += 1;
      });
    }
  }

  snapshot(): AvailabilitySnapshot[] {
    const now = performance.now();
    return [...this.#histories.values()].map((h) => ({
      component: h.component,
      unavailableSeconds: (h.unavailableMs + (h.unavailableSince === undefined ? 0 : now - h.unavailableSince)) / 1000,
      recoveries: h.recoveries,
    }));
  }
}
