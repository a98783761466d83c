import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { readSettingsFromEnv } from '../src/preload-config.js';
import { sentrySettings } from '../src/settings.js';

describe('settings read by the preload', () => {
  it('reads {APP}_{PREFIX}_* with the defaults for unset and empty variables', () => {
    const settings = readSettingsFromEnv(sentrySettings, 'user-service', 'error_tracking', {
      USER_SERVICE_ERROR_TRACKING_DSN: 'https://k@o1.ingest.sentry.io/9',
      USER_SERVICE_ERROR_TRACKING_TRACES_SAMPLE_RATE: '0.25',
      USER_SERVICE_ERROR_TRACKING_RELEASE: '',
    });
    assert.equal(settings.dsn, 'https://k@o1.ingest.sentry.io/9');
    assert.equal(settings.tracesSampleRate, 0.25);
    assert.equal(settings.sampleRate, 1);
    assert.equal(settings.release, undefined);
    assert.equal(settings.flushTimeout, 2000);
    assert.equal(settings.debug, false);
  });

  it('rejects a sample rate outside 0..1 or not a number, naming the variable', () => {
    for (const bad of ['1.5', '-0.1', '50%', 'abc']) {
      assert.throws(
        () => readSettingsFromEnv(sentrySettings, 'user-service', 'error_tracking', { USER_SERVICE_ERROR_TRACKING_SAMPLE_RATE: bad }),
        /USER_SERVICE_ERROR_TRACKING_SAMPLE_RATE=".*" is invalid: expected a number from 0 to 1/,
      );
    }
  });

  it('never shows the DSN in an error', () => {
    assert.throws(
      () => readSettingsFromEnv(sentrySettings, 'user-service', 'error_tracking', { USER_SERVICE_ERROR_TRACKING_DSN: 'not a url with secret' }),
      (error: Error) => error.message.includes('<redacted>') && !error.message.includes('secret'),
    );
  });
});
