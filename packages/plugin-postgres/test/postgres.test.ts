import assert from 'node:assert/strict';
import { after, before, describe, it, mock } from 'node:test';
import { PluginUnavailableError, StartupError } from '@plinth/core';
import {
  createScratchPostgresDatabase,
  freePort,
  requireService,
  serviceAddress,
  startSilentListener,
  startTcpProxy,
  waitFor,
  type ScratchPostgresDatabase,
} from '@plinth/testkit';
import { sql } from 'drizzle-orm';
import { isConnectionError, type PostgresPlugin } from '../src/index.js';
import { migrationRuns, type primarySchema } from './fixtures/schema.js';
import { accountsApp, connectionsTo, ledgerApp, withClient } from './support/apps.js';
import { AccountService } from './support/services.js';

type PrimaryPlugin = PostgresPlugin<typeof primarySchema>;

let adminUrl: string;
const scratch: ScratchPostgresDatabase[] = [];

async function scratchDatabase(): Promise<ScratchPostgresDatabase> {
  const db = await createScratchPostgresDatabase('plinth_pg');
  scratch.push(db);
  return db;
}

/** Starts `app`, expecting a StartupError; returns it with how long startup took to fail. */
async function failedStartup(app: { start(): Promise<void> }): Promise<{ error: StartupError; elapsed: number }> {
  const started = performance.now();
  const error = await app.start().then(
    () => assert.fail('startup should fail'),
    (e: unknown) => e,
  );
  assert.ok(error instanceof StartupError, `expected a StartupError, got ${String(error)}`);
  return { error, elapsed: performance.now() - started };
}

before(async () => {
  adminUrl = await requireService('postgres');
});

after(async () => {
  await Promise.all(scratch.map((db) => db.drop()));
});

describe('postgres on a PostgreSQL server', () => {
  it('gives one service two instances on two databases, each with its own pool', async () => {
    const [primaryDb, analyticsDb] = await Promise.all([scratchDatabase(), scratchDatabase()]);
    const { app } = accountsApp({
      ACCOUNTS_PRIMARY_DB_URL: primaryDb.url,
      ACCOUNTS_PRIMARY_DB_POOL_MAX: '2',
      ACCOUNTS_ANALYTICS_DB_URL: analyticsDb.url,
      ACCOUNTS_ANALYTICS_DB_POOL_MAX: '3',
    });
    await app.start();
    try {
      const accounts = app.get<AccountService>(AccountService);
      const id = await accounts.register('Ada', 'ada@example.test');
      assert.deepEqual(await accounts.findByEmail('ada@example.test'), { id, name: 'Ada' });
      assert.equal(await accounts.userCount(), 1);
      assert.equal(await accounts.viewCount(), 1);

      // Each instance migrated its own database and nothing else.
      const tables = async (url: string) =>
        withClient(url, async (c) => {
          const [row] = await c<{ users: string | null; views: string | null }[]>`
            select to_regclass('users')::text as users, to_regclass('page_views')::text as views`;
          return row;
        });
      assert.deepEqual(await tables(primaryDb.url), { users: 'users', views: null });
      assert.deepEqual(await tables(analyticsDb.url), { users: null, views: 'page_views' });

      // Saturate both pools: each opens exactly its own POOL_MAX connections.
      const backends = async (plugin: PostgresPlugin<Record<string, unknown>>, queries: number) => {
        const rows = await Promise.all(
          Array.from({ length: queries }, () => plugin.sql<{ pid: number }[]>`select pg_backend_pid() as pid, pg_sleep(0.15)`),
        );
        return new Set(rows.map(([row]) => row!.pid)).size;
      };
      const primary = app.plugin('primary_db') as PostgresPlugin<Record<string, unknown>>;
      const analytics = app.plugin('analytics_db') as PostgresPlugin<Record<string, unknown>>;
      assert.notEqual(primary.sql, analytics.sql);
      const [primaryBackends, analyticsBackends] = await Promise.all([backends(primary, 6), backends(analytics, 6)]);
      assert.equal(primaryBackends, 2);
      assert.equal(analyticsBackends, 3);
      assert.equal(await connectionsTo(adminUrl, primaryDb.name, 'accounts') >= 2, true);
      assert.equal(await connectionsTo(adminUrl, analyticsDb.name, 'accounts') >= 3, true);

      // Transactions commit or roll back as a whole.
      await assert.rejects(accounts.registerPair('bob', 'carol', true), /rollback requested/);
      assert.equal(await accounts.userCount(), 1);
      await accounts.registerPair('bob', 'carol', false);
      assert.equal(await accounts.userCount(), 3);
    } finally {
      const report = await app.stop();
      assert.equal(report.clean, true);
    }
    // Stopping closed every connection of both pools (and of the health probes).
    await waitFor(async () => (await connectionsTo(adminUrl, primaryDb.name, 'accounts')) === 0, {
      message: 'primary connections closed',
    });
    await waitFor(async () => (await connectionsTo(adminUrl, analyticsDb.name, 'accounts')) === 0, {
      message: 'analytics connections closed',
    });
  });

  it('applies migrations at start; two apps starting together both start and migrate once', async () => {
    const db = await scratchDatabase();
    const first = ledgerApp({ LEDGER_PRIMARY_DB_URL: db.url });
    const second = ledgerApp({ LEDGER_PRIMARY_DB_URL: db.url });
    await Promise.all([first.app.start(), second.app.start()]);
    try {
      assert.equal(first.app.state, 'ready');
      assert.equal(second.app.state, 'ready');
      const plugin = first.app.plugin('primary_db') as PrimaryPlugin;
      // Migration 0001 records each run and whether it held the advisory lock.
      const runs = await plugin.db.select().from(migrationRuns);
      assert.equal(runs.length, 1);
      assert.equal(runs[0]!.heldAdvisoryLock, true);
      const journal = await plugin.sql<{ n: number }[]>`select count(*)::int as n from drizzle.__drizzle_migrations`;
      assert.equal(journal[0]!.n, 2);

      const outcomes = [first, second].map(({ logs }) => logs.matching(/^applied|^migrations up to date/).map((l) => l['msg']));
      assert.deepEqual(outcomes.flat().sort(), ['applied 2 migration(s)', 'migrations up to date']);
      // No advisory lock is left behind.
      const locks = await plugin.sql<{ n: number }[]>`select count(*)::int as n from pg_locks where locktype = 'advisory'`;
      assert.equal(locks[0]!.n, 0);
    } finally {
      await Promise.all([first.app.stop(), second.app.stop()]);
    }
  });

  it('starts degraded when a non-critical instance cannot connect, and fails its calls fast', async () => {
    const primaryDb = await scratchDatabase();
    const closedPort = await freePort();
    const { app } = accountsApp({
      ACCOUNTS_PRIMARY_DB_URL: primaryDb.url,
      ACCOUNTS_ANALYTICS_DB_HOST: '127.0.0.1',
      ACCOUNTS_ANALYTICS_DB_PORT: String(closedPort),
      ACCOUNTS_ANALYTICS_DB_PASSWORD: 'analytics-secret-pw',
    });
    await app.start();
    try {
      assert.equal(app.state, 'degraded');
      const analytics = app.plugin('analytics_db') as PostgresPlugin<Record<string, unknown>>;
      assert.throws(() => analytics.db, PluginUnavailableError);
      const unavailable = (() => {
        try {
          void analytics.db;
        } catch (error) {
          return error as Error;
        }
        return undefined;
      })();
      assert.match(unavailable!.message, new RegExp(`analytics_db.*127\\.0\\.0\\.1:${closedPort}`));
      assert.doesNotMatch(unavailable!.message, /analytics-secret-pw/);
      await assert.rejects(analytics.healthCheck({ signal: AbortSignal.timeout(1000) }), /not connected/);
      // The critical instance works meanwhile.
      const primary = app.plugin('primary_db') as PrimaryPlugin;
      assert.equal((await primary.db.select().from(migrationRuns)).length, 1);
    } finally {
      assert.equal((await app.stop()).clean, true);
    }
  });

  it('fails startup within its deadline against a server that never answers, and leaves no socket open', async () => {
    const silent = await startSilentListener();
    try {
      const { app } = ledgerApp({
        LEDGER_PRIMARY_DB_HOST: silent.host,
        LEDGER_PRIMARY_DB_PORT: String(silent.port),
        LEDGER_PRIMARY_DB_PASSWORD: 'ledger-secret-pw',
        LEDGER_PRIMARY_DB_START_TIMEOUT: '1000',
        LEDGER_PRIMARY_DB_CONNECT_TIMEOUT: '300',
      });
      const { error, elapsed } = await failedStartup(app);
      assert.match(error.message, /"primary_db"/);
      assert.match(error.message, new RegExp(`${silent.host}:${silent.port}`));
      assert.doesNotMatch(error.message, /ledger-secret-pw/);
      assert.match(error.message, /CONNECT_TIMEOUT/);
      assert.ok(elapsed < 1000 + 500, `startup failed after ${Math.round(elapsed)} ms`);
      assert.ok(silent.connections >= 2, 'each attempt timed out on its own and was retried');
      await waitFor(() => silent.openConnections === 0, { timeoutMs: 2000, message: 'sockets to the silent server closed' });
    } finally {
      await silent.close();
    }
  });

  it('fails startup at once, without retrying to the deadline, when the server rejects the role', async () => {
    const { app, logs } = ledgerApp(
      {
        LEDGER_PRIMARY_DB_HOST: '127.0.0.1',
        LEDGER_PRIMARY_DB_PORT: String(new URL(adminUrl).port || 5432),
        LEDGER_PRIMARY_DB_USER: 'plinth_no_such_role',
        LEDGER_PRIMARY_DB_DATABASE: 'test',
        LEDGER_PRIMARY_DB_START_TIMEOUT: '20000',
      },
      { migrations: false },
    );
    const { error, elapsed } = await failedStartup(app);
    assert.equal(error.attempts, 1, 'a rejected role is not retried');
    assert.match(error.message, /"primary_db" \(127\.0\.0\.1:\d+\/test\) preStart failed \(1 attempt/);
    assert.match(error.message, /role "plinth_no_such_role" does not exist/);
    assert.ok(elapsed < 5000, `failed after ${Math.round(elapsed)} ms, long before the 20 s deadline`);
    assert.equal(logs.lines.filter((l) => l['phase'] === 'preStart' && l['outcome'] === 'retrying').length, 0);
  });

  it('answers a health check while the pool is busy: health checks have their own connection', async () => {
    const db = await scratchDatabase();
    const { app } = ledgerApp({ LEDGER_PRIMARY_DB_URL: db.url, LEDGER_PRIMARY_DB_POOL_MAX: '1' }, { migrations: false });
    await app.start();
    try {
      const plugin = app.plugin('primary_db') as PrimaryPlugin;
      let busyDone = false;
      const busy = plugin.sql`select pg_sleep(1)`.then(() => {
        busyDone = true;
      });
      await waitFor(
        () =>
          withClient(adminUrl, async (c) => {
            const rows = await c`select 1 from pg_stat_activity where datname = ${db.name} and query like '%pg_sleep(1)%' and state = 'active'`;
            return rows.length === 1;
          }),
        { message: 'the slow query holds the only pool connection' },
      );
      await plugin.healthCheck({ signal: AbortSignal.timeout(500) });
      assert.equal(busyDone, false, 'the health check answered while the pool was still busy');
      await busy;
    } finally {
      await app.stop();
    }
  });

  it('reports down within the health timeout when the server stops answering, without piling up connections', async () => {
    const db = await scratchDatabase();
    const { host, port } = serviceAddress('postgres');
    const proxy = await startTcpProxy({ targetHost: host, targetPort: port });
    const { app } = ledgerApp(
      { LEDGER_PRIMARY_DB_HOST: proxy.host, LEDGER_PRIMARY_DB_PORT: String(proxy.port), LEDGER_PRIMARY_DB_DATABASE: db.name },
      { migrations: false },
    );
    await app.start();
    try {
      const plugin = app.plugin('primary_db') as PrimaryPlugin;
      await plugin.healthCheck({ signal: AbortSignal.timeout(1000) });
      proxy.hang();
      for (let i = 0; i < 3; i++) {
        const started = performance.now();
        await assert.rejects(plugin.healthCheck({ signal: AbortSignal.timeout(300) }), /no answer to select 1 within the health timeout/);
        const elapsed = performance.now() - started;
        assert.ok(elapsed < 300 + 200, `check ${i} took ${Math.round(elapsed)} ms`);
      }
      await proxy.restore();
      await plugin.healthCheck({ signal: AbortSignal.timeout(1000) });
      // Each timed-out check threw its connection away (the proxy sees the closes once traffic
      // moves again): only the pool's connection and the current check's remain.
      await waitFor(() => proxy.activeConnections <= 2, { message: 'timed-out check connections closed' });
      assert.ok(proxy.totalConnections >= 4, 'every timed-out check after the first opened a fresh connection');
    } finally {
      await proxy.restore();
      await app.stop();
      await proxy.close();
    }
  });

  it('stays available when one pool connection drops while the server still answers', async () => {
    const db = await scratchDatabase();
    const { app, logs } = ledgerApp({ LEDGER_PRIMARY_DB_URL: db.url }, { migrations: false });
    const states: string[] = [];
    app.on('state', (change) => states.push(change.to));
    await app.start();
    try {
      const plugin = app.plugin('primary_db') as PrimaryPlugin;
      const [backend] = await plugin.sql<{ pid: number }[]>`select pg_backend_pid() as pid`;
      await withClient(adminUrl, (c) => c`select pg_terminate_backend(${backend!.pid})`);
      await waitFor(() => logs.matching(/a pool connection closed; the server still answers/).length === 1, {
        message: 'the dropped connection was checked',
      });
      await plugin.db.execute(sql`select 1`);
      assert.equal(states.includes('degraded'), false);
      assert.equal(app.state, 'ready');
    } finally {
      await app.stop();
    }
  });

  it('marks the instance unavailable when the server goes away, and available again when it is back', async () => {
    const db = await scratchDatabase();
    const { host, port } = serviceAddress('postgres');
    const proxy = await startTcpProxy({ targetHost: host, targetPort: port });
    const { app, logs } = ledgerApp(
      { LEDGER_PRIMARY_DB_HOST: proxy.host, LEDGER_PRIMARY_DB_PORT: String(proxy.port), LEDGER_PRIMARY_DB_DATABASE: db.name },
      { migrations: false },
    );
    const states: string[] = [];
    app.on('state', (change) => states.push(change.to));
    await app.start();
    try {
      const plugin = app.plugin('primary_db') as PrimaryPlugin;
      await plugin.db.execute(sql`select 1`);
      await proxy.cut();
      await assert.rejects(plugin.db.execute(sql`select 1`), (error: Error) => {
        assert.equal(isConnectionError(error), true, String(error));
        return true;
      });
      await waitFor(() => app.state === 'degraded', { message: 'app degraded' });
      assert.throws(() => plugin.db, PluginUnavailableError);
      await proxy.restore();
      await waitFor(() => app.state === 'ready', { message: 'app ready again', timeoutMs: 10_000 });
      await plugin.db.execute(sql`select 1`);
      assert.deepEqual(states.slice(-3), ['ready', 'degraded', 'ready']);
      assert.equal(logs.matching(/primary_db available again/).length, 1);
      // The dropped connection does not hold up shutdown.
      assert.equal((await app.stop()).clean, true);
    } finally {
      await proxy.restore();
      await app.stop();
      await proxy.close();
    }
  });

  it('sends server notices to the plugin logger, not to the console', async () => {
    const db = await scratchDatabase();
    const { app, logs } = ledgerApp({ LEDGER_PRIMARY_DB_URL: db.url }, { migrations: false });
    const consoleLog = mock.method(console, 'log', () => {});
    try {
      await app.start();
      const plugin = app.plugin('primary_db') as PrimaryPlugin;
      await plugin.sql`do $$ begin raise notice 'notice through sql'; end $$`;
      await plugin.db.execute(sql`do $$ begin raise warning 'warning through db'; end $$`);
      assert.equal(consoleLog.mock.callCount(), 0);
    } finally {
      consoleLog.mock.restore();
      await app.stop();
    }
    const [notice] = logs.matching(/server notice: notice through sql/);
    assert.equal(notice?.['prefix'], 'primary_db');
    assert.equal(notice?.['level'], 30);
    const [warning] = logs.matching(/server notice: warning through db/);
    assert.equal(warning?.['level'], 40);
  });

  it('ignores the PG* env vars of the process: every setting reaches the server as configured', async () => {
    const db = await scratchDatabase();
    const bogus: Record<string, string> = {
      PGHOST: '203.0.113.9',
      PGPORT: '1',
      PGUSER: 'nobody',
      PGUSERNAME: 'nobody',
      PGPASSWORD: 'from-env-pw',
      PGDATABASE: 'no_such_db',
      PGAPPNAME: 'from-env',
      PGSSL: 'require',
      PGMAX: '1',
      PGCONNECT_TIMEOUT: '1',
      PGIDLE_TIMEOUT: '1',
      PGPREPARE: 'false',
    };
    const saved = Object.fromEntries(Object.keys(bogus).map((key) => [key, process.env[key]]));
    Object.assign(process.env, bogus);
    const { app } = ledgerApp(
      {
        LEDGER_PRIMARY_DB_HOST: db.host,
        LEDGER_PRIMARY_DB_PORT: String(db.port),
        LEDGER_PRIMARY_DB_DATABASE: db.name,
        LEDGER_PRIMARY_DB_POOL_MAX: '4',
        LEDGER_PRIMARY_DB_STATEMENT_TIMEOUT: '1234',
      },
      { migrations: false },
    );
    try {
      await app.start();
      const plugin = app.plugin('primary_db') as PrimaryPlugin;
      const [row] = await plugin.sql<{ db: string; usr: string; app: string; timeout: string; ssl: boolean }[]>`
        select current_database() as db, current_user as usr, current_setting('application_name') as app,
               current_setting('statement_timeout') as timeout,
               coalesce((select ssl from pg_stat_ssl where pid = pg_backend_pid()), false) as ssl`;
      assert.deepEqual(row, { db: db.name, usr: 'postgres', app: 'ledger', timeout: '1234ms', ssl: false });
      assert.equal(plugin.sql.options.max, 4);
      // statement_timeout applies to pool queries.
      await assert.rejects(plugin.sql`select pg_sleep(2)`, /statement timeout/);
    } finally {
      for (const [key, value] of Object.entries(saved)) {
        if (value === undefined) delete process.env[key];
        else process.env[key] = value;
      }
      await app.stop();
    }
  });
});
