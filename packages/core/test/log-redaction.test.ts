import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { LogCapture } from '@plinth/testkit';
import { testApp } from './support/scripted-plugin.js';

/** An error the way drizzle raises one: bound parameters in the message and a `params` field. */
function failedQueryError(email: string): Error {
  const cause = Object.assign(new Error('new row for relation "users" violates check constraint "c"'), {
    detail: `Failing row contains (1, Ada, ${email}).`,
  });
  const params = ['Ada', email];
  return Object.assign(new Error(`Failed query: insert into users (name, email) values ($1, $2)\nparams: ${params}`, { cause }), {
    query: 'insert into users (name, email) values ($1, $2)',
    params,
  });
}

describe('log redaction', () => {
  it('censors request bodies, credentials and personal fields by default', async () => {
    const { app, logs } = testApp({ env: {} });
    await app.start();
    app.logger.info(
      {
        req: { method: 'POST', body: { email: 'body@example.com' }, headers: { authorization: 'Bearer abc', cookie: 'sid=1' } },
        body: { name: 'Ada' },
        email: 'top@example.com',
        user: { email: 'nested@example.com', password: 'hunter2' },
      },
      'request',
    );
    await app.stop();
    const text = logs.text;
    for (const value of ['body@example.com', 'Bearer abc', 'sid=1', 'Ada', 'top@example.com', 'nested@example.com', 'hunter2']) {
      assert.ok(!text.includes(value), `${value} is not logged`);
    }
    assert.match(text, /"method":"POST"/, 'what is not personal stays');
  });

  it('keeps the bound parameters of a failed query out of an error log, but keeps the SQL', async () => {
    const { app, logs } = testApp({ env: {} });
    await app.start();
    app.logger.error({ err: failedQueryError('private.person@example.com') }, 'request failed');
    await app.stop();
    const text = logs.text;
    assert.ok(!text.includes('private.person'), 'no email in message, stack, params or detail');
    assert.match(text, /insert into users/, 'the query text is kept');
    assert.match(text, /violates check constraint/, 'the cause is kept');
  });

  it('censors extra paths named by LOG_REDACT', async () => {
    const { app, logs } = testApp({ env: { TEST_APP_LOG_REDACT: 'user.name, *.ssn' } });
    await app.start();
    app.logger.info({ user: { name: 'Grace Hopper', id: 7 }, person: { ssn: '078-05-1120' } }, 'lookup');
    await app.stop();
    const text = logs.text;
    assert.ok(!text.includes('Grace Hopper'));
    assert.ok(!text.includes('078-05-1120'));
    assert.match(text, /"id":7/);
  });

  it('writes a scalar as its JSON unless its own key is redacted, in every app sharing the paths', async () => {
    const env = { TEST_APP_LOG_REDACT: 'ticket' };
    const lines = await Promise.all(
      ['one', 'two'].map(async () => {
        const { app, logs } = testApp({ env });
        await app.start();
        app.logger.info({ ticket: 'T-1', token: 42, url: null, kind: 'say "hi" \\ \n \ud800', ms: 0.5, inf: Infinity, ok: false, person: { ticket: 'T-2' } }, 'scalars');
        await app.stop();
        const line = logs.text.split('\n').find((l) => l.includes('"msg":"scalars"'));
        assert.ok(line, 'the line is logged');
        return JSON.parse(line) as Record<string, unknown>;
      }),
    );
    for (const line of lines) {
      assert.equal(line['ticket'], '<redacted>', 'a top-level path added by LOG_REDACT censors a string');
      assert.equal(line['token'], '<redacted>', 'a default top-level path censors a number');
      assert.equal(line['url'], '<redacted>', 'and null');
      assert.equal(line['kind'], 'say "hi" \\ \n \ud800', 'quotes, escapes and a lone surrogate survive');
      assert.equal(line['ms'], 0.5);
      assert.equal(line['inf'], null, 'a non-finite number is written as null');
      assert.equal(line['ok'], false);
      assert.deepEqual(line['person'], { ticket: 'T-2' }, 'a top-level path does not reach into objects');
    }
  });

  it('apps logging to one destination keep their own name, level and redact paths', async () => {
    const logs = new LogCapture();
    const one = testApp({ name: 'one', logDestination: logs, env: { ONE_LOG_LEVEL: 'debug' } }).app;
    const two = testApp({ name: 'two', logDestination: logs, env: { TWO_LOG_LEVEL: 'info', TWO_LOG_REDACT: 'kind' } }).app;
    await one.start();
    await two.start();
    for (const app of [one, two]) app.logger.debug({ kind: 'k' }, `debug from ${app.name}`);
    two.logger.level = 'warn';
    for (const app of [one, two]) app.logger.info({ kind: 'k' }, `info from ${app.name}`);
    two.logger.warn({ kind: 'k' }, 'warn from two');
    await one.stop();
    await two.stop();
    assert.deepEqual(
      logs.matching(/ from /).map((line) => [line['app'], line['msg'], line['kind']]),
      [
        ['one', 'debug from one', 'k'],
        ['one', 'info from one', 'k'],
        ['two', 'warn from two', '<redacted>'],
      ],
    );
    assert.equal(one.logger.level, 'debug', "one app's level change leaves the other's");
  });
});
