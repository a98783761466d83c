import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { PGlite } from '@electric-sql/pglite';
import { PlinthError, PluginUnavailableError, StartupError } from '@plinth/core';
import { freePort, spawnProcess, type OutputLine } from '@plinth/testkit';
import { sql } from 'drizzle-orm';
import type { PostgresPlugin } from '../src/index.js';
import { migrationRuns, users, type primarySchema } from './fixtures/schema.js';
import { accountsApp, ledgerApp } from './support/apps.js';
import { AccountService } from './support/services.js';

// PGlite's initdb takes seconds and ~700 MB, so it runs once: every test copies this folder.
let root: string;
let template: string;
let copies = 0;

function dataDirCopy(): string {
  const target = path.join(root, `data-${++copies}`);
  cpSync(template, target, { recursive: true });
  return target;
}

before(async () => {
  root = mkdtempSync(path.join(tmpdir(), 'plinth-pglite-'));
  template = path.join(root, 'template');
  const initdb = new PGlite(template);
  await initdb.waitReady;
  await initdb.close();
});

after(() => {
  if (root) rmSync(root, { recursive: true, force: true });
});

const message = (line: OutputLine): string => (typeof line === 'string' ? line : String(line['msg'] ?? ''));

describe('postgres on embedded PGlite (neither URL nor HOST set)', () => {
  it('runs the same service code with the same .db, transactions and migrations, and keeps data in its folder', async () => {
    const primaryDir = dataDirCopy();
    const analyticsDir = dataDirCopy();
    const env = { ACCOUNTS_PRIMARY_DB_DATA_DIR: primaryDir, ACCOUNTS_ANALYTICS_DB_DATA_DIR: analyticsDir };
    const first = accountsApp(env);
    await first.app.start();
    try {
      assert.equal(first.app.state, 'ready');
      const primary = first.app.plugin('primary_db') as PostgresPlugin<typeof primarySchema>;
      assert.equal(primary.embedded, true);
      const accounts = first.app.get<AccountService>(AccountService);
      const id = await accounts.register('Ada', 'ada@example.test');
      assert.deepEqual(await accounts.findByEmail('ada@example.test'), { id, name: 'Ada' });
      assert.equal(await accounts.viewCount(), 1);
      await assert.rejects(accounts.registerPair('bob', 'carol', true), /rollback requested/);
      assert.equal(await accounts.userCount(), 1);
      await accounts.registerPair('bob', 'carol', false);
      assert.equal(await accounts.userCount(), 3);

      // Migrations ran once, without a lock: one process owns an embedded database.
      const runs = await primary.db.select().from(migrationRuns);
      assert.equal(runs.length, 1);
      assert.equal(runs[0]!.heldAdvisoryLock, false);

      await primary.healthCheck({ signal: AbortSignal.timeout(1000) });
      assert.throws(
        () => primary.sql,
        (error: Error) =>
          error instanceof PlinthError && /ACCOUNTS_PRIMARY_DB_URL/.test(error.message) && /ACCOUNTS_PRIMARY_DB_HOST/.test(error.message),
      );
    } finally {
      assert.equal((await first.app.stop()).clean, true);
    }
    // One line per instance says it is embedded, where its data is, and which env var switches to PostgreSQL.
    for (const prefix of ['PRIMARY_DB', 'ANALYTICS_DB']) {
      const lines = first.logs.messages(/running embedded/).filter((line) => String(line['msg']).includes(`ACCOUNTS_${prefix}_URL`));
      assert.equal(lines.length, 1, `${prefix}: ${JSON.stringify(lines)}`);
      assert.match(String(lines[0]!['msg']), /running embedded \(pglite:\//);
    }
    assert.equal(first.logs.messages(/embedded database closed/).length, 2);

    // A restart finds its data and nothing left to migrate.
    const second = accountsApp(env);
    await second.app.start();
    try {
      const accounts = second.app.get<AccountService>(AccountService);
      assert.equal(await accounts.userCount(), 3);
      const primary = second.app.plugin('primary_db') as PostgresPlugin<typeof primarySchema>;
      assert.equal((await primary.db.select().from(migrationRuns)).length, 1);
      assert.equal(second.logs.messages(/^migrations up to date$/).length, 2);
    } finally {
      await second.app.stop();
    }
  });

  it('runs in memory without DATA_DIR and says so', async () => {
    const { app, logs } = ledgerApp({});
    await app.start();
    try {
      const primary = app.plugin('primary_db') as PostgresPlugin<typeof primarySchema>;
      await primary.db.insert(users).values({ name: 'Ada', email: 'ada@example.test' });
      const rows = await primary.db.select({ name: users.name }).from(users);
      assert.deepEqual(rows, [{ name: 'Ada' }]);
      await primary.db.execute(sql`select 1`);
    } finally {
      await app.stop();
    }
    const [line] = logs.messages(/running embedded/);
    assert.match(String(line?.['msg']), /^primary_db running embedded \(pglite:memory\): .*set LEDGER_PRIMARY_DB_URL to use a server$/);
    assert.equal(logs.messages(/applied 2 migration\(s\)/).length, 1);
  });

  it('fails startup naming the instance and the folder when a critical data folder is unusable; a non-critical one degrades', async () => {
    const file = path.join(root, 'not-a-folder');
    writeFileSync(file, 'x');
    const unusable = path.join(file, 'data');

    const critical = ledgerApp({ LEDGER_PRIMARY_DB_DATA_DIR: unusable, LEDGER_PRIMARY_DB_START_TIMEOUT: '1000' });
    const error = await critical.app.start().then(
      () => assert.fail('startup should fail'),
      (e: unknown) => e,
    );
    assert.ok(error instanceof StartupError);
    assert.match(error.message, /"primary_db"/);
    assert.ok(error.message.includes(unusable), error.message);

    const degraded = accountsApp({ ACCOUNTS_PRIMARY_DB_DATA_DIR: dataDirCopy(), ACCOUNTS_ANALYTICS_DB_DATA_DIR: unusable });
    await degraded.app.start();
    try {
      assert.equal(degraded.app.state, 'degraded');
      const analytics = degraded.app.plugin('analytics_db') as PostgresPlugin;
      assert.throws(() => analytics.db, PluginUnavailableError);
      await degraded.app.get<AccountService>(AccountService).primary.db.select().from(users);
    } finally {
      await degraded.app.stop();
    }
  });

  it('on SIGTERM lets a slow query in flight finish, then closes, and exits 0', async () => {
    const proc = spawnProcess({
      args: ['--import', 'tsx', fileURLToPath(new URL('./fixtures/orders-app.ts', import.meta.url))],
      cwd: fileURLToPath(new URL('..', import.meta.url)),
      env: { ORDERS_HEALTH_PORT: String(await freePort()), ORDERS_PRIMARY_DB_DATA_DIR: dataDirCopy(), FIXTURE_SLOW_QUERY_SECONDS: '1' },
    });
    await proc.waitForLine((line) => message(line) === 'slow query started', 30_000);
    const signalledAt = Date.now();
    assert.equal(proc.signal('SIGTERM'), true);
    const exit = await proc.exited;

    assert.equal(exit.code, 0, proc.tail());
    const messages = proc.lines.map(message);
    const finished = messages.indexOf('slow query finished');
    const closed = messages.indexOf('embedded database closed');
    assert.equal(messages.includes('slow query failed'), false, proc.tail());
    assert.ok(finished >= 0 && closed > finished, `expected the query to finish before the database closed:\n${proc.tail()}`);
    const finishedAt = proc.lines[finished];
    assert.ok(typeof finishedAt === 'object' && Number(finishedAt['time']) >= signalledAt, 'the query finished after the signal');
  });
});
