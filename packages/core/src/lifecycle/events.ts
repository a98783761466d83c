/** `breaker`: a plugin's circuit breaker opened (`degraded`) or closed again (`succeeded`). */
export type LifecyclePhase = 'preStart' | 'onStart' | 'onStop' | 'recover' | 'breaker';

export type LifecycleOutcome =
  /** The hook began; `at` is its start time. */
  | 'begin'
  | 'succeeded'
  /** A critical preStart attempt failed and will be retried after a backoff. */
  | 'retrying'
  | 'failed'
  | 'timedOut'
  /** Not run: startup was abandoned or a dependency failed. */
  | 'skipped'
  /** A non-critical preStart failed; the app goes on degraded and recovers in the background. */
  | 'degraded';

/** One step of one component, with monotonic timestamps (ms, `performance.now()`). */
export interface LifecycleEvent {
  readonly component: string;
  readonly kind: 'plugin' | 'service';
  readonly pluginType: string | undefined;
  readonly phase: LifecyclePhase;
  readonly outcome: LifecycleOutcome;
  readonly attempt: number;
  readonly at: number;
  /** Set on every outcome but `begin`. */
  readonly durationMs: number | undefined;
  /** Redacted cause on failure outcomes. */
  readonly error: string | undefined;
}

export type AppState = 'created' | 'starting' | 'ready' | 'degraded' | 'draining' | 'stopped' | 'failed';

export interface StateChange {
  readonly from: AppState;
  readonly to: AppState;
  readonly at: number;
  readonly reason: string | undefined;
}
