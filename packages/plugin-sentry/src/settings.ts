import { setting, type SettingsOf, type SettingFormat } from '@plinth/core';

/** A fraction from 0 to 1 (`0.25`), as Sentry's sample rates are. */
const rate: SettingFormat<number> = {
  expected: 'a number from 0 to 1 (e.g. 0.25)',
  parse(raw) {
    const value = typeof raw === 'number' ? raw : typeof raw === 'string' && /^(\d+(\.\d*)?|\.\d+)$/.test(raw.trim()) ? Number(raw) : NaN;
    if (!(value >= 0 && value <= 1)) throw new Error('expected a number from 0 to 1 (e.g. 0.25)');
    return value;
  },
};

/**
 * Settings of the error tracker, read from `{APP}_{PREFIX}_{SETTING}`
 * (`EXAMPLE_SERVICE_ERROR_TRACKING_DSN`). Without a DSN reporting is off.
 */
export const sentrySettings = {
  dsn: setting.url({
    doc: 'Sentry DSN (https://<key>@<host>/<project>); unset = error reporting off, nothing is sent',
    protocols: ['http:', 'https:'],
    sensitive: true,
  }),
  environment: setting.nonEmptyString({ doc: "Environment reported with every event; default: the app's environment" }),
  release: setting.nonEmptyString({ doc: "Release reported with every event; default: the app's version when it declares one" }),
  sampleRate: setting.custom(rate)({ doc: 'Share of error events sent (0 to 1; reloadable)', default: 1, reloadable: true }),
  tracesSampleRate: setting.custom(rate)({ doc: 'Share of traces sent (0 to 1); 0 = tracing off', default: 0 }),
  flushTimeout: setting.duration({ doc: 'Longest wait for pending events at shutdown and before exit (ms)', default: 2000 }),
  debug: setting.boolean({ doc: "Log the SDK's own diagnostics", default: false }),
} as const;

export type SentrySettings = SettingsOf<typeof sentrySettings>;
