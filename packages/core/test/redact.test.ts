import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createRedactor } from '../src/internal/redact.js';

describe('createRedactor', () => {
  it('hides secret values, URL passwords, and the password of a secret URL where it appears alone', () => {
    const redact = createRedactor(['postgres://app:Pg%2Fs3cret@db:5432/main', 'tok-123']);
    assert.equal(
      redact('failed on postgres://app:Pg%2Fs3cret@db:5432/main (password Pg/s3cret, also Pg%2Fs3cret), token tok-123, other amqp://u:pw@mq'),
      'failed on postgres://app:<redacted>@db:5432/main (password <redacted>, also <redacted>), token <redacted>, other amqp://u:<redacted>@mq',
    );
  });
});
