import type { Logger } from 'pino';
import type { LifecycleEvent } from '../lifecycle/events.js';

/** One log line per lifecycle event: begins at debug, retries and degradations at warn, failures at error. */
export function logLifecycleEvent(logger: Logger, event: LifecycleEvent): void {
  const failed = event.outcome === 'failed' || event.outcome === 'timedOut';
  const level = failed ? 'error' : event.outcome === 'retrying' || event.outcome === 'degraded' ? 'warn' : 'debug';
  // Most events log at debug, which is usually off: do not build a line the logger drops.
  if (!logger.isLevelEnabled(level)) return;
  if (event.outcome === 'begin') {
    logger.debug({ component: event.component, phase: event.phase, attempt: event.attempt }, `${event.phase} ${event.component}`);
    return;
  }
  const fields = {
    component: event.component,
    ...(event.pluginType ? { pluginType: event.pluginType } : {}),
    phase: event.phase,
    outcome: event.outcome,
    attempt: event.attempt,
    durationMs: Math.round(event.durationMs ?? 0),
    ...(event.error ? { error: event.error } : {}),
  };
  logger[level](fields, `${event.phase} ${event.component} ${event.outcome}`);
}
