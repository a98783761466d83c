import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import postgres from 'postgres';
import {
  createScratchPostgresDatabase,
  createScratchRedis,
  requireService,
  testServices,
  waitFor,
  type ScratchPostgresDatabase,
  type ScratchRedis,
} from '@plinth/testkit';
import { json, postUser, startService, type RunningService } from './support/service-process.js';

interface Problems {
  fields: Record<string, string>;
}

describe('example service input and logs', () => {
  let database: ScratchPostgresDatabase;
  let cache: ScratchRedis;
  let service: RunningService;

  before(async () => {
    await requireService('postgres');
    await requireService('redis');
    await requireService('rabbitmq');
    database = await createScratchPostgresDatabase('example_input');
    cache = await createScratchRedis();
    service = await startService({
      EXAMPLE_SERVICE_PRIMARY_DB_URL: database.url,
      EXAMPLE_SERVICE_SESSION_CACHE_URL: cache.url,
      EXAMPLE_SERVICE_EVENTS_URL: testServices().amqp,
    });
  });
  after(async () => {
    if (service) {
      service.process.signal('SIGTERM');
      await service.process.exited;
    }
    await cache?.release();
    await database?.drop();
  });

  it('answers 400 naming the field for a NUL byte in name or email', async () => {
    const name = await postUser(service.url, { name: 'A\u0000da', email: 'nul-name@example.com' });
    assert.equal(name.status, 400);
    assert.ok((await json<Problems>(name)).fields['name'], 'names the field');
    const email = await postUser(service.url, { name: 'Ada', email: 'nul\u0000@example.com' });
    assert.equal(email.status, 400);
    assert.ok((await json<Problems>(email)).fields['email'], 'names the field');
  });

  it('answers 400 for ids that are not decimal whole numbers in range', async () => {
    for (const id of ['1e309', 'Infinity', '0x10', '1.5', '-1', '0', '2147483648', '99999999999']) {
      const response = await fetch(`${service.url}/users/${id}`);
      assert.equal(response.status, 400, `GET /users/${id}`);
      assert.ok((await json<Problems>(response)).fields['id'], `GET /users/${id} names the id`);
    }
  });

  it('validates bodies as written: an unknown field or a wrong type is a 400 naming the field', async () => {
    const extra = await postUser(service.url, { name: 'Ada', email: `extra-${Date.now()}@example.com`, admin: true });
    assert.equal(extra.status, 400, 'an unknown property is rejected, not stripped');
    assert.ok((await json<Problems>(extra)).fields['admin'], 'names the unknown field');
    const wrongType = await postUser(service.url, { name: 42, email: `typed-${Date.now()}@example.com` });
    assert.equal(wrongType.status, 400, 'a number is not coerced to a string');
    assert.ok((await json<Problems>(wrongType)).fields['name'], 'names the mistyped field');
  });

  it('keeps email addresses out of the logs of a failed request', async () => {
    const sql = postgres(database.url, { max: 1, onnotice: () => undefined });
    try {
      await sql`alter table users add constraint no_blocked_domain check (email not like '%@blocked.example')`;
    } finally {
      await sql.end();
    }
    const from = service.process.lines.length;
    const secret = `private.person.${Date.now()}@blocked.example`;
    const response = await postUser(service.url, { name: 'Private Person', email: secret });
    assert.equal(response.status, 500);
    await waitFor(() => service.process.lines.slice(from).some((line) => typeof line === 'object' && line !== null && (line as { level?: number }).level === 50), {
      timeoutMs: 5000,
      message: 'the failure is logged',
    });
    const output = service.process.stdout + service.process.stderr;
    assert.doesNotMatch(output, /private\.person/, 'the email address is not in the logs');
  });
});
