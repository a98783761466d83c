/**
 * `node --import @plinth/plugin-sentry/preload dist/main.js`: initialises the Sentry SDK
 * before the app's modules load, so their auto-instrumentation (HTTP, PostgreSQL, Redis,
 * AMQP spans) works. The app's `sentry(prefix)` plugin then attaches to this client.
 *
 * The app is not loaded yet, so the preload learns whose settings to read from
 * `PLINTH_SENTRY_APP` (the app's name as given to `createApp`, e.g. `example-service`) and
 * `PLINTH_SENTRY_PREFIX` (default `error_tracking`); it reads
 * `{APP}_{PREFIX}_DSN`, `_ENVIRONMENT`, `_RELEASE`, `_SAMPLE_RATE`, `_TRACES_SAMPLE_RATE`, `_DEBUG`.
 * Without a DSN it does nothing.
 */
import { messageOf } from '@plinth/core';
import * as Sentry from '@sentry/node';
import { readSettingsFromEnv } from './preload-config.js';
import { processState } from './process-state.js';
import { nodeOptions } from './sdk-options.js';
import { sentrySettings } from './settings.js';

export const DEFAULT_PREFIX = 'error_tracking';

function preload(env: NodeJS.ProcessEnv): void {
  const app = env.PLINTH_SENTRY_APP;
  if (app === undefined || app === '') {
    process.stderr.write('@plinth/plugin-sentry/preload: PLINTH_SENTRY_APP is not set (the app name, e.g. user-service): Sentry not initialised\n');
    return;
  }
  const prefix = env.PLINTH_SENTRY_PREFIX || DEFAULT_PREFIX;
  let config;
  try {
    config = readSettingsFromEnv(sentrySettings, app, prefix, env);
  } catch (error) {
    // The app reports the same bad value as a config error when it starts.
    process.stderr.write(`@plinth/plugin-sentry/preload: ${messageOf(error)}: Sentry not initialised\n`);
    return;
  }
  const dsn = config.dsn;
  if (dsn === undefined) return;
  Sentry.init(nodeOptions({ ...config, dsn }));
  processState().preload = { app, prefix };
}

preload(process.env);
