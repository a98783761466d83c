import assert from 'node:assert/strict';
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { after, before, describe, it } from 'node:test';
import { createScratchPostgresDatabase, requireService, serviceAddress, startTcpProxy, waitFor, type ScratchPostgresDatabase } from '@plinth/testkit';
import { sql } from 'drizzle-orm';
import type { PostgresPlugin } from '../src/index.js';
import type { primarySchema } from './fixtures/schema.js';
import { ledgerApp } from './support/apps.js';

type PrimaryPlugin = PostgresPlugin<typeof primarySchema>;

const scratch: ScratchPostgresDatabase[] = [];
async function scratchDatabase(): Promise<ScratchPostgresDatabase> {
  const db = await createScratchPostgresDatabase('plinth_pg_outage');
  scratch.push(db);
  return db;
}

before(async () => {
  await requireService('postgres');
});
after(async () => {
  await Promise.all(scratch.map((db) => db.drop()));
});

/** Listens on `port` and resets every connection at once (like a refused connect), recording when each arrived. */
async function countingRefuser(port: number): Promise<{ arrivals: number[]; close(): Promise<void> }> {
  const arrivals: number[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    arrivals.push(performance.now());
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.resetAndDestroy();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  return {
    arrivals,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

describe('postgres outages', () => {
  it('applies a 30 s statement_timeout to pool connections by default', async () => {
    const db = await scratchDatabase();
    const { app } = ledgerApp({ LEDGER_PRIMARY_DB_URL: db.url }, { migrations: false });
    await app.start();
    try {
      const plugin = app.plugin('primary_db') as PrimaryPlugin;
      const [row] = await plugin.sql<{ statement_timeout: string }[]>`show statement_timeout`;
      assert.equal(row?.statement_timeout, '30s');
    } finally {
      await app.stop();
    }
  });

  it('probes a server that went away at least once a second, so its return is seen within a second', async () => {
    const db = await scratchDatabase();
    const { host, port } = serviceAddress('postgres');
    const proxy = await startTcpProxy({ targetHost: host, targetPort: port });
    const { app } = ledgerApp(
      { LEDGER_PRIMARY_DB_HOST: proxy.host, LEDGER_PRIMARY_DB_PORT: String(proxy.port), LEDGER_PRIMARY_DB_DATABASE: db.name },
      { migrations: false },
    );
    await app.start();
    let refuser: Awaited<ReturnType<typeof countingRefuser>> | undefined;
    try {
      const plugin = app.plugin('primary_db') as PrimaryPlugin;
      await plugin.db.execute(sql`select 1`);
      await proxy.cut();
      // The proxy's port now answers every connection with a close, and counts them.
      refuser = await countingRefuser(proxy.port);
      await assert.rejects(plugin.db.execute(sql`select 1`));
      await waitFor(() => app.state === 'degraded', { timeoutMs: 15_000, message: 'unavailable after the cut' });
      const from = performance.now();
      await new Promise((resolve) => setTimeout(resolve, 6000));
      const probes = refuser.arrivals.filter((at) => at >= from);
      const gaps = probes.slice(1).map((at, i) => at - (probes[i] as number));
      const longest = Math.max(...gaps);
      assert.ok(probes.length >= 5, `recovery probes in 6 s: ${probes.length}`);
      assert.ok(longest < 1500, `longest pause between recovery probes: ${Math.round(longest)} ms`);
    } finally {
      await refuser?.close();
      await proxy.restore();
      await app.stop();
      await proxy.close();
    }
  });

  it('cancels a query still running on a hung server after the stop grace, and stops clean before its deadline', async () => {
    const db = await scratchDatabase();
    const { host, port } = serviceAddress('postgres');
    const proxy = await startTcpProxy({ targetHost: host, targetPort: port });
    const { app, logs } = ledgerApp(
      {
        LEDGER_PRIMARY_DB_HOST: proxy.host,
        LEDGER_PRIMARY_DB_PORT: String(proxy.port),
        LEDGER_PRIMARY_DB_DATABASE: db.name,
        LEDGER_PRIMARY_DB_STOP_TIMEOUT: '3000',
        LEDGER_PRIMARY_DB_STOP_QUERY_GRACE: '1000',
      },
      { migrations: false },
    );
    await app.start();
    try {
      const plugin = app.plugin('primary_db') as PrimaryPlugin;
      await plugin.db.execute(sql`select 1`);
      proxy.hang();
      const hung = plugin.db.execute(sql`select 1`).then(
        () => 'answered',
        () => 'failed',
      );
      const report = await app.stop();
      assert.equal(report.clean, true, 'the stop did not run into its deadline');
      assert.equal(await hung, 'failed', 'the hung query was cancelled');
      assert.ok(logs.matching(/cancelled the queries still running/).length >= 1, 'the cancellation is logged');
    } finally {
      await proxy.restore();
      await app.stop();
      await proxy.close();
    }
  });
});
