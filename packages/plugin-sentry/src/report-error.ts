import type { SeverityLevel } from '@sentry/node';
import type { ErrorContext } from '@plinth/core';
import type { SentrySdk } from './sdk.js';

/** Severity when the reporter gives none: what ended or crashed the process is fatal. */
function defaultLevel(context: ErrorContext): SeverityLevel {
  return context.source === 'startup' || context.source === 'uncaughtException' ? 'fatal' : 'error';
}

/**
 * Tags of one report: where it came from (`plinth.source`), which plugin (`plugin.type`,
 * `plugin.prefix`) or service (`component`), the lifecycle `phase` and `attempt`, and the
 * reporter's details (`queue`, `messageId`, `route`…) as they are.
 */
export function reportTags(context: ErrorContext): Record<string, string | number | boolean> {
  const tags: Record<string, string | number | boolean> = { 'plinth.source': context.source };
  if (context.pluginType !== undefined) {
    tags['plugin.type'] = context.pluginType;
    if (context.component !== undefined) tags['plugin.prefix'] = context.component;
  } else if (context.component !== undefined) {
    tags.component = context.component;
  }
  if (context.phase !== undefined) tags.phase = context.phase;
  if (context.attempt !== undefined) tags.attempt = context.attempt;
  for (const [key, value] of Object.entries(context.details ?? {})) tags[key] = value;
  return tags;
}

/** Sends one report of the app's error channel as an exception event (a message when no error was given). */
export function captureReport(sdk: SentrySdk, error: unknown, context: ErrorContext): string {
  return sdk.withScope((scope) => {
    scope.setLevel(context.level ?? defaultLevel(context));
    scope.setTags(reportTags(context));
    if (error === undefined || error === null) return sdk.captureMessage(`${context.source} failure`);
    return sdk.captureException(error);
  });
}
