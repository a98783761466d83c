import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import {
  createScratchPostgresDatabase,
  freePort,
  requireService,
  spawnProcess,
  waitFor,
  type OutputLine,
  type ScratchPostgresDatabase,
} from '@plinth/testkit';
import { connectionsTo, withClient } from './support/apps.js';

const ORDERS_APP = fileURLToPath(new URL('./fixtures/orders-app.ts', import.meta.url));
const PACKAGE_DIR = fileURLToPath(new URL('..', import.meta.url));

async function spawnOrders(env: Record<string, string>) {
  return spawnProcess({
    args: ['--import', 'tsx', ORDERS_APP],
    cwd: PACKAGE_DIR,
    env: { ORDERS_HEALTH_PORT: String(await freePort()), ORDERS_LOG_LEVEL: 'info', ...env },
  });
}

const message = (line: OutputLine): string => (typeof line === 'string' ? line : String(line['msg'] ?? ''));
const timeOf = (line: OutputLine): number => (typeof line === 'string' ? NaN : Number(line['time']));

let adminUrl: string;
let database: ScratchPostgresDatabase;

before(async () => {
  adminUrl = await requireService('postgres');
  database = await createScratchPostgresDatabase('plinth_pg_process');
});

after(async () => {
  await database?.drop();
});

describe('postgres in a process', () => {
  for (const variant of ['HOST/PORT/PASSWORD settings', 'a URL with the password in it'] as const) {
    it(`exits 1 within its deadline when a critical database is unreachable (${variant}), naming it without the password`, async () => {
      const port = await freePort();
      const password = 'Sup3r-Secret-Pw';
      const connection: Record<string, string> =
        variant === 'a URL with the password in it'
          ? { ORDERS_PRIMARY_DB_URL: `postgres://orders:${password}@127.0.0.1:${port}/orders` }
          : { ORDERS_PRIMARY_DB_HOST: '127.0.0.1', ORDERS_PRIMARY_DB_PORT: String(port), ORDERS_PRIMARY_DB_PASSWORD: password };
      const proc = await spawnOrders({ ...connection, ORDERS_PRIMARY_DB_START_TIMEOUT: '1500' });
      const starting = await proc.waitForLine((line) => message(line) === 'starting orders', 15_000);
      const exit = await proc.exited;
      const exitedAt = Date.now();

      assert.equal(exit.code, 1, proc.tail());
      const elapsed = exitedAt - timeOf(starting);
      assert.ok(elapsed < 1500 + 1000, `exited ${elapsed} ms after starting`);
      const failure = proc.stderrLines.find((line) => line.includes('failed to start')) ?? '';
      assert.match(failure, /postgres plugin "primary_db"/);
      assert.match(failure, new RegExp(`127\\.0\\.0\\.1:${port}`));
      assert.match(failure, /ECONNREFUSED/);
      assert.ok(!proc.stdout.includes(password) && !proc.stderr.includes(password), 'the password was printed');
    });
  }

  it('survives postgres.js leaving its failed array-types query unhandled: a warning, not a crash', async () => {
    // A 1 ms statement timeout makes the server cancel the query postgres.js runs by itself on
    // each new connection; postgres.js 3.4 never handles that query's promise. A non-critical
    // instance keeps retrying in the background, one new connection (and rejection) per attempt.
    const proc = await spawnOrders({ ORDERS_PRIMARY_DB_URL: database.url, ORDERS_PRIMARY_DB_STATEMENT_TIMEOUT: '1', ORDERS_PRIMARY_DB_CRITICAL: 'false' });
    try {
      const tolerated = (line: OutputLine): boolean => message(line).startsWith('unhandledRejection tolerated (postgres.js 3.4 leaves the failure of its own array-types query');
      await proc.waitForLine(tolerated, 15_000);
      await waitFor(() => proc.lines.filter(tolerated).length >= 2, { message: 'a second attempt, a second tolerated rejection' });
      assert.equal(proc.exitInfo, undefined, `still running:\n${proc.tail()}`);
      assert.equal(proc.lines.some((line) => typeof line === 'object' && line['level'] === 60), false, `nothing fatal:\n${proc.tail()}`);
      proc.signal('SIGTERM');
      assert.equal((await proc.exited).code, 0, proc.tail());
    } finally {
      await proc.kill();
    }
  });

  it('on SIGTERM lets a slow query in flight finish, then closes the pool, and exits 0', async () => {
    const proc = await spawnOrders({ ORDERS_PRIMARY_DB_URL: database.url, FIXTURE_SLOW_QUERY_SECONDS: '1.5' });
    await proc.waitForLine((line) => message(line) === 'slow query started', 15_000);
    // The query is running on the server when the signal arrives.
    await waitFor(
      () =>
        withClient(adminUrl, async (sql) => {
          const rows = await sql`select 1 from pg_stat_activity
            where datname = ${database.name} and state = 'active' and query like '%pg_sleep%'`;
          return rows.length === 1;
        }),
      { message: 'slow query active on the server' },
    );
    const signalledAt = Date.now();
    assert.equal(proc.signal('SIGTERM'), true);
    const exit = await proc.exited;

    assert.equal(exit.code, 0, proc.tail());
    const messages = proc.lines.map(message);
    const finished = messages.indexOf('slow query finished');
    const closed = messages.indexOf('connection pool closed');
    assert.equal(messages.includes('slow query failed'), false, proc.tail());
    assert.ok(finished >= 0 && closed > finished, `expected the query to finish before the pool closed:\n${proc.tail()}`);
    assert.ok(timeOf(proc.lines[finished]!) >= signalledAt, 'the query finished after the signal');
    assert.equal(await connectionsTo(adminUrl, database.name, 'orders'), 0);
  });
});
