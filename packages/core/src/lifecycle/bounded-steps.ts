import { withDeadline } from './deadline.js';

/** Work given a signal that aborts at its deadline. */
export type Step = (signal: AbortSignal) => Promise<void> | void;

export interface BoundedStep {
  readonly run: Step;
  readonly timeoutMs: number;
}

/**
 * Runs the steps concurrently, each bounded by its own timeout (its signal aborts then and
 * it is no longer waited for). Resolves once every step has finished or timed out; a step
 * that fails or times out is handed to `onFailure`, and the others go on.
 */
export async function runBoundedSteps(
  steps: readonly BoundedStep[],
  what: string,
  onFailure: (error: unknown) => void,
): Promise<void> {
  await Promise.all(
    steps.map((step) =>
      withDeadline(step.run, { timeoutMs: step.timeoutMs, component: what, phase: 'step' }).catch(onFailure),
    ),
  );
}
