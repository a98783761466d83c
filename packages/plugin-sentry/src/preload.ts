/**
 * `node --import @plinth/plugin-sentry/preload dist/main.js`: initialises the Sentry SDK
 * before the app's modules load, so their auto-instrumentation (HTTP, PostgreSQL, Redis,
 * AMQP spans) works. The app's `sentry(prefix)` plugin then attaches to this client.
 *
 * The app is not loaded yet, so the preload learns whose settings to read from
 * `PLINTH_SENTRY_APP` (the app's name as given to `createApp`, e.g. `example-service`) and
 * `PLINTH_SENTRY_PREFIX` (default `error_tracking`); it reads
 * `{APP}_{PREFIX}_DSN`, `_ENVIRONMENT`, `_RELEASE`, `_SAMPLE_RATE`, `_TRACES_SAMPLE_RATE`, `_DEBUG`.
 * Without a DSN it does nothing, and does not load the SDK.
 */
import { messageOf } from '@plinth/core';
import { readSettingsFromEnv } from './preload-config.js';
import { processState } from './process-state.js';
import { importSdk } from './sdk.js';
import { nodeOptions } from './sdk-options.js';
import { sentrySettings } from './settings.js';

export const DEFAULT_PREFIX = 'error_tracking';

async function preload(env: NodeJS.ProcessEnv): Promise<void> {
  const app = env.PLINTH_SENTRY_APP;
  if (app === undefined || app === '') {
    process.stderr.write('@plinth/plugin-sentry/preload: PLINTH_SENTRY_APP is not set (the app name, e.g. user-service): Sentry not initialised\n');
    return;
  }
  const prefix = env.PLINTH_SENTRY_PREFIX || DEFAULT_PREFIX;
  let settings;
  try {
    settings = readSettingsFromEnv(sentrySettings, app, prefix, env);
  } catch (error) {
    // The app reports the same bad value as a config error when it starts.
    process.stderr.write(`@plinth/plugin-sentry/preload: ${messageOf(error)}: Sentry not initialised\n`);
    return;
  }
  const dsn = settings.dsn;
  if (dsn === undefined) return;
  const sdk = await importSdk();
  sdk.init(nodeOptions(sdk, { ...settings, dsn }));
  processState().preload = { app, prefix, sdk };
}

await preload(process.env);
