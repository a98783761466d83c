// @plinth/core/lifecycle: building blocks for plugins that run their own loops and
// deadlines, with the policy the app's lifecycle uses.
export { Backoff, backoffDelay, sleep, type BackoffOptions } from './backoff.js';
export { raceAbort, withDeadline } from './deadline.js';
export { withTimeout } from './with-timeout.js';
export { HookTimeoutError, OperationTimeoutError } from '../errors.js';
export type { LifecycleOutcome, LifecyclePhase } from './events.js';
