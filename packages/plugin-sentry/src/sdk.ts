import type * as Sentry from '@sentry/node';

/** The `@sentry/node` module namespace. */
export type SentrySdk = typeof Sentry;

/**
 * Loads `@sentry/node`. Only a process that reports loads it: the SDK and the
 * OpenTelemetry packages it brings are hundreds of modules and tens of MB of memory.
 */
export function importSdk(): Promise<SentrySdk> {
  return import('@sentry/node');
}
