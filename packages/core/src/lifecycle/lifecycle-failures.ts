import { performance } from 'node:perf_hooks';
import type { RetryPolicy } from 'cockatiel';
import { NonRetryableError, StartupError } from '../errors.js';
import { messageOf } from '../message-of.js';
import { describeComponent, type LifecycleComponent } from './component.js';
import { raceAbort } from './deadline.js';
import type { LifecycleEvent, LifecycleOutcome, LifecyclePhase } from './events.js';

/** A lifecycle event of one component, its error redacted. */
export function lifecycleEvent(
  component: LifecycleComponent,
  phase: LifecyclePhase,
  outcome: LifecycleOutcome,
  attempt: number,
  startedAt: number,
  error?: unknown,
): LifecycleEvent {
  const now = performance.now();
  return {
    component: component.id,
    kind: component.kind,
    pluginType: component.pluginType,
    phase,
    outcome,
    attempt,
    at: outcome === 'begin' ? startedAt : now,
    durationMs: outcome === 'begin' ? undefined : now - startedAt,
    error: error === undefined ? undefined : component.redact(messageOf(error)),
  };
}

/** The StartupError of a failed hook: what, where, how often, how long, and why (its cause chain, redacted). */
export function startupFailure(
  component: LifecycleComponent,
  phase: 'preStart' | 'onStart' | 'onStop',
  attempts: number,
  started: number,
  cause: unknown,
  timedOut: boolean,
): StartupError {
  const elapsed = Math.round(performance.now() - started);
  const what = describeComponent(component);
  const tries = `${attempts} attempt${attempts === 1 ? '' : 's'}`;
  const reason = component.redact(messageOf(cause));
  const message = timedOut
    ? `${what} ${phase} did not succeed within its ${component.timeouts[phase]} ms deadline (${tries}, ${elapsed} ms): ${reason}`
    : `${what} ${phase} failed (${tries}, ${elapsed} ms): ${reason}`;
  return new StartupError(message, component.id, phase, attempts, { cause });
}

/**
 * Runs `attempt` under `policy` until it succeeds or `signal` aborts. cockatiel's backoff
 * wait does not watch the signal, so a long delay would outlive a preStart deadline or hold
 * up shutdown: the race settles at the abort, and an attempt due after it never begins.
 */
export function retryWithin(policy: RetryPolicy, signal: AbortSignal, attempt: () => Promise<void>): Promise<void> {
  return raceAbort(
    policy.execute(() => {
      signal.throwIfAborted();
      return attempt();
    }, signal),
    signal,
  );
}

/** A preStart failure is retried unless the plugin said retrying cannot help. */
export function isRetryable(error: unknown): boolean {
  return !NonRetryableError.is(error);
}
