// What the orchestrator is given, and what its stop() reports.
import type { ErrorContext } from '../app/error-channel.js';
import type { BackoffOptions } from './backoff.js';
import type { LifecycleEvent } from './events.js';

export interface OrchestratorOptions {
  /**
   * Aborts when shutdown begins; background recovery and `ctx.appSignal` follow it. Asked
   * for only when a hook runs: Node builds an AbortSignal on first use, at a cost.
   */
  readonly appSignal: () => AbortSignal;
  readonly emit: (event: LifecycleEvent) => void;
  /** Between attempts of a critical preStart. */
  readonly retryBackoff: BackoffOptions;
  /** Between background reconnects of a degraded non-critical plugin. */
  readonly recoveryBackoff: BackoffOptions;
  /** Hook deadline overruns and failed onStops go to the app's error channel. */
  readonly reportError: (error: unknown, context: ErrorContext) => void;
}

export interface StopReport {
  readonly clean: boolean;
  /** Components whose onStop failed or outlived its deadline. */
  readonly failures: readonly { readonly component: string; readonly error: string }[];
}
