import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import type { CheckResults } from '../health/health-report.js';
import type { LifecycleEvent } from '../lifecycle/events.js';
import type { PluginMetrics } from '../metrics/plugin-metrics.js';
import { createBreaker, type Breaker, type BreakerChange, type BreakerOptions, type BreakerState } from './breaker.js';

/** The plugin instance a breaker belongs to. */
export interface BreakerOwner {
  readonly type: string;
  readonly prefix: string;
  readonly logger: Logger;
  readonly metrics: PluginMetrics;
}

const STATES: readonly BreakerState[] = ['closed', 'open', 'halfOpen'];

/**
 * The app's breakers: each one not closed is a non-critical health check that is down (so
 * `/health` says `degraded` and names it, while readiness holds), and every change is a
 * lifecycle event (`phase: 'breaker'`: `degraded` when it opens, `succeeded` when it closes).
 */
export class BreakerBoard {
  readonly #notClosed = new Map<string, string>();
  readonly #emit: (event: LifecycleEvent) => void;
  readonly #changed: () => void;

  constructor(emit: (event: LifecycleEvent) => void, changed: () => void) {
    this.#emit = emit;
    this.#changed = changed;
  }

  create(owner: BreakerOwner, name: string, options: BreakerOptions): Breaker {
    const labels = { breaker: name };
    const current = owner.metrics.gauge<'breaker' | 'state'>({
      name: 'plinth_breaker_state',
      help: 'Circuit breaker state: 1 for the current state (closed, open, halfOpen), 0 for the others',
      labelNames: ['breaker', 'state'],
    });
    const opened = owner.metrics.counter<'breaker'>({ name: 'plinth_breaker_opened_total', help: 'Times a circuit breaker opened', labelNames: ['breaker'] });
    const refused = owner.metrics.counter<'breaker'>({ name: 'plinth_breaker_refused_total', help: 'Calls refused at once because their circuit breaker was open', labelNames: ['breaker'] });
    const timedOut = owner.metrics.counter<'breaker'>({ name: 'plinth_breaker_timeouts_total', help: 'Calls through a circuit breaker that timed out (OperationTimeoutError)', labelNames: ['breaker'] });
    const show = (state: BreakerState): void => {
      for (const s of STATES) current.set({ breaker: name, state: s }, s === state ? 1 : 0);
    };
    show('closed');
    opened.inc(labels, 0);
    refused.inc(labels, 0);
    timedOut.inc(labels, 0);
    return createBreaker(`${owner.prefix}.${name}`, name, options, {
      change: (change) => {
        show(change.to);
        if (change.to === 'open' && change.from === 'closed') opened.inc(labels);
        this.#record(owner, change);
      },
      refused: () => refused.inc(labels),
      timedOut: () => timedOut.inc(labels),
    });
  }

  /** A down, non-critical check for every breaker that is not closed. */
  results(): CheckResults {
    const results: Record<string, CheckResults[string]> = {};
    for (const [id, reason] of this.#notClosed) results[`${id} breaker`] = { status: 'down', critical: false, latencyMs: 0, error: reason };
    return results;
  }

  #record(owner: BreakerOwner, change: BreakerChange): void {
    const { breaker, name } = change;
    const closed = change.to === 'closed';
    if (closed) this.#notClosed.delete(breaker.id);
    else this.#notClosed.set(breaker.id, `${change.to}: ${change.reason ?? 'failures'}`);
    if (change.from === 'closed' || closed) {
      const error = closed ? undefined : `${name} breaker open: ${change.reason ?? 'failures'}`;
      if (closed) owner.logger.info({ breaker: name, openMs: Math.round(change.openMs ?? 0) }, `${name} breaker closed`);
      this.#emit({
        component: owner.prefix,
        kind: 'plugin',
        pluginType: owner.type,
        phase: 'breaker',
        outcome: closed ? 'succeeded' : 'degraded',
        attempt: 1,
        at: performance.now(),
        durationMs: change.openMs,
        error,
      });
    }
    this.#changed();
  }
}
