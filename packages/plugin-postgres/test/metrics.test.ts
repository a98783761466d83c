import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { createApp, type App } from '@plinth/core';
import { createScratchPostgresDatabase, requireService, type ScratchPostgresDatabase } from '@plinth/testkit';
import { sql } from 'drizzle-orm';
import { postgres, type PostgresPlugin } from '../src/index.js';

const silent = new Writable({ write: (_chunk, _encoding, done) => done() });

/** The value of one series on the app's registry (0 when absent). */
async function valueOf(app: App, name: string, labels: Record<string, string> = {}): Promise<number> {
  const metric = (await app.metrics.getMetricsAsJSON()).find((m) => m.name === name.replace(/_(count|sum)$/, ''));
  const suffix = /_(count|sum)$/.exec(name)?.[0];
  const values = (metric?.values ?? []) as { metricName?: string; value: number; labels: Record<string, string | number> }[];
  return values
    .filter((v) => (suffix ? v.metricName === name : v.metricName === undefined || v.metricName === name))
    .filter((v) => Object.entries({ plugin: 'postgres', prefix: 'db', ...labels }).every(([k, l]) => String(v.labels[k]) === l))
    .reduce((sum, v) => sum + v.value, 0);
}

describe('postgres metrics', () => {
  let database: ScratchPostgresDatabase;
  let app: App;
  let db: PostgresPlugin;

  before(async () => {
    await requireService('postgres');
    database = await createScratchPostgresDatabase('plinth_pg_metrics');
    app = createApp({ name: 'pg-metrics', plugins: [postgres('db')], env: { PG_METRICS_DB_URL: database.url, PG_METRICS_DB_POOL_MAX: '4' }, logDestination: silent });
    await app.start();
    db = app.plugin('db' as never) as PostgresPlugin;
  });
  after(async () => {
    await app?.stop();
    await database?.drop();
  });

  it('counts a query once, and a failed query as an error', async () => {
    const before = await valueOf(app, 'plinth_postgres_query_duration_seconds_count', { outcome: 'ok' });
    await db.db.execute(sql`select 1`);
    assert.equal(await valueOf(app, 'plinth_postgres_query_duration_seconds_count', { outcome: 'ok' }), before + 1);

    await assert.rejects(db.db.execute(sql`select * from no_such_table`));
    assert.equal(await valueOf(app, 'plinth_postgres_query_errors_total', { outcome: 'error' }), 1);
    assert.equal(await valueOf(app, 'plinth_postgres_query_duration_seconds_count', { outcome: 'error' }), 1);
  });

  it('counts transactions by outcome, and their queries', async () => {
    const queries = await valueOf(app, 'plinth_postgres_query_duration_seconds_count');
    await db.transaction(async (tx) => {
      await tx.execute(sql`select 1`);
      await tx.execute(sql`select 2`);
    });
    await assert.rejects(
      db.transaction(async (tx) => {
        await tx.execute(sql`select 1`);
        throw new Error('changed my mind');
      }),
    );
    assert.equal(await valueOf(app, 'plinth_postgres_transactions_total', { outcome: 'committed' }), 1);
    assert.equal(await valueOf(app, 'plinth_postgres_transactions_total', { outcome: 'rolled_back' }), 1);
    // begin/commit are postgres.js' own; the three statements are the transactions' queries.
    assert.equal(await valueOf(app, 'plinth_postgres_query_duration_seconds_count'), queries + 3);
  });

  it('shows the pool: connections open, in use while a transaction holds one, queries waiting beyond POOL_MAX', async () => {
    assert.equal(await valueOf(app, 'plinth_postgres_pool_max_connections'), 4);
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const transactions = Array.from({ length: 4 }, () => db.transaction(async (tx) => {
      await tx.execute(sql`select 1`);
      await held;
    }));
    // drizzle's query promises are lazy: then() sends it.
    const waiting = db.db.execute(sql`select pg_sleep(0)`).then((rows) => rows);
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal(await valueOf(app, 'plinth_postgres_pool_in_use'), 4);
    assert.equal(await valueOf(app, 'plinth_postgres_pool_waiting'), 1);
    assert.equal(await valueOf(app, 'plinth_postgres_pool_connections'), 4);
    release();
    await Promise.all([...transactions, waiting]);
    assert.equal(await valueOf(app, 'plinth_postgres_pool_in_use'), 0);
    assert.equal(await valueOf(app, 'plinth_postgres_pool_waiting'), 0);
  });
});
