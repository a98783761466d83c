import { messageOf, type Logger } from '@plinth/core';
import { Backoff, sleep } from '@plinth/core/lifecycle';
import type { DrizzleSchema, PostgresPlugin } from '@plinth/plugin-postgres';
import type { RabbitMqPlugin } from '@plinth/plugin-rabbitmq';
import { sql } from 'drizzle-orm';
import type { OutboxTable } from './outbox-table.js';
import type { BacklogSnapshot, RelayCounts } from './relay-metrics.js';
import { rowsOf } from './rows.js';
import { WakeUp } from './wake-up.js';

/**
 * How relays share one table. `skip-locked`: every relay claims rows with
 * `FOR UPDATE SKIP LOCKED`, so replicas publish disjoint batches at once. `advisory-lock`:
 * a relay publishes only while it holds the table's advisory lock, one at a time.
 */
export type ClaimMode = 'skip-locked' | 'advisory-lock';

export interface RelayOptions {
  readonly table: OutboxTable;
  readonly db: PostgresPlugin<DrizzleSchema>;
  readonly broker: RabbitMqPlugin;
  readonly claim: ClaimMode;
  readonly mandatory: boolean;
  readonly batchSize: number;
  readonly pollIntervalMs: number;
  readonly publishTimeoutMs: number;
  readonly logger: Logger;
  readonly counts: RelayCounts;
  /** A publish was confirmed `seconds` after its event was written. */
  readonly observeLag: (seconds: number) => void;
  /** A batch published everything it claimed, or a publish failed (with the reason). */
  readonly onOutcome: (failure: unknown) => void;
}

interface ClaimedRow {
  readonly position: string | number | bigint;
  readonly message_id: string;
  readonly exchange: string;
  readonly routing_key: string;
  readonly payload: string;
  readonly headers: string;
  readonly created_ms: number | string;
}

interface BatchOutcome {
  readonly claimed: number;
  readonly failed: number;
}

/** Pauses after a failed batch (broker or database down): 200 ms, doubling, up to 5 s. */
const FAILURE_BACKOFF = { initialDelayMs: 200, maxDelayMs: 5_000 } as const;
const MAX_ERROR_TEXT = 500;

/**
 * Publishes pending outbox rows. One batch is one transaction: claim rows (locked until
 * commit), publish each and wait for its confirm, mark the confirmed ones sent, commit.
 * A crash before the commit leaves the rows pending and unlocked, so another relay (or
 * the next start) publishes them again: at least once. A locked row is never claimed by a
 * second relay, so two live relays never publish one row at the same time.
 */
export class Relay {
  readonly #options: RelayOptions;
  readonly #wake = new WakeUp();
  readonly #stop = new AbortController();
  readonly #backoff = new Backoff(FAILURE_BACKOFF);
  #loop: Promise<void> | undefined;
  #unlisten: (() => Promise<void>) | undefined;

  constructor(options: RelayOptions) {
    this.#options = options;
  }

  /** Starts the loop and the LISTEN; returns at once. */
  start(): void {
    this.#loop ??= this.#run();
    void this.#listen();
  }

  /** Wakes the loop now (a NOTIFY arrived, or a test wants a pass). */
  wake(): void {
    this.#wake.wake();
  }

  /**
   * Stops claiming; the batch in flight finishes (its confirms arrive and its rows are
   * marked) unless `signal` aborts first, in which case its transaction rolls back when
   * the pool closes and its rows stay pending for the next relay.
   */
  async stop(signal: AbortSignal): Promise<boolean> {
    this.#stop.abort();
    await this.#unlisten?.().catch(() => undefined);
    if (!this.#loop) return true;
    let finished = false;
    await Promise.race([
      this.#loop.then(() => {
        finished = true;
      }),
      new Promise<void>((resolve) => (signal.aborted ? resolve() : signal.addEventListener('abort', () => resolve(), { once: true }))),
    ]);
    return finished;
  }

  /** Pending rows and the age of the oldest. */
  async backlog(): Promise<BacklogSnapshot> {
    const { db, table } = this.#options;
    const result = await db.db.execute(
      sql`select count(*)::int as pending,
                 coalesce(extract(epoch from clock_timestamp() - min(created_at)) * 1000, 0)::float8 as oldest_ms
          from ${table.ref} where sent_at is null`,
    );
    const [row] = rowsOf<{ pending: number | string; oldest_ms: number | string }>(result);
    return { pending: Number(row?.pending ?? 0), oldestMs: Math.max(0, Number(row?.oldest_ms ?? 0)) };
  }

  async #run(): Promise<void> {
    const stop = this.#stop.signal;
    while (!stop.aborted) {
      let outcome: BatchOutcome;
      try {
        outcome = await this.#batch();
      } catch (error) {
        // The database failed (the broker's failures are per row, below).
        this.#options.onOutcome(error);
        await sleep(this.#backoff.next(), stop).catch(() => undefined);
        continue;
      }
      if (outcome.failed > 0) {
        await sleep(this.#backoff.next(), stop).catch(() => undefined);
        continue;
      }
      this.#backoff.reset();
      // A full batch, or one that freed the next row of some key: look again at once.
      if (outcome.claimed > 0) continue;
      await this.#wake.wait(this.#options.pollIntervalMs, stop);
    }
  }

  async #batch(): Promise<BatchOutcome> {
    const { db, table, claim, batchSize, broker, counts } = this.#options;
    return db.transaction(async (tx) => {
      if (claim === 'advisory-lock') {
        const [lock] = rowsOf<{ leader: boolean }>(await tx.execute(sql`select pg_try_advisory_xact_lock(${table.leaderLockKey}::bigint) as leader`));
        if (!lock?.leader) return { claimed: 0, failed: 0 };
      }
      // Rows with a key wait until every earlier row of that key is sent: per-key order,
      // also across relays (a row locked by another relay is still unsent here).
      const rows = rowsOf<ClaimedRow>(
        await tx.execute(sql`
          select position, message_id::text as message_id, exchange, routing_key, payload::text as payload, headers::text as headers,
                 (extract(epoch from created_at) * 1000)::float8 as created_ms
          from ${table.ref} o
          where sent_at is null
            and (message_key is null or not exists (
              select 1 from ${table.ref} p
              where p.message_key = o.message_key and p.sent_at is null and p.position < o.position))
          order by position
          limit ${batchSize}
          for update skip locked`),
      );
      if (rows.length === 0) return { claimed: 0, failed: 0 };
      const results = await Promise.allSettled(rows.map((row) => this.#publish(row)));
      const sent: string[] = [];
      const failed: string[] = [];
      let firstError: unknown;
      results.forEach((result, i) => {
        const position = String((rows[i] as ClaimedRow).position);
        if (result.status === 'fulfilled') sent.push(position);
        else {
          failed.push(position);
          firstError ??= result.reason;
        }
      });
      if (sent.length > 0) {
        await tx.execute(sql`update ${table.ref} set sent_at = clock_timestamp(), attempts = attempts + 1
                             where position in (${sql.join(sent.map((p) => sql`${p}::bigint`), sql`, `)})`);
      }
      if (failed.length > 0) {
        const reason = messageOf(firstError).slice(0, MAX_ERROR_TEXT);
        await tx.execute(sql`update ${table.ref} set attempts = attempts + 1, last_error = ${reason}
                             where position in (${sql.join(failed.map((p) => sql`${p}::bigint`), sql`, `)})`);
        counts.failed += failed.length;
        this.#options.logger.warn({ failed: failed.length, sent: sent.length, broker: broker.prefix, err: firstError }, 'outbox publish failed; the events stay pending');
      }
      counts.published += sent.length;
      this.#options.onOutcome(failed.length > 0 ? firstError : undefined);
      return { claimed: rows.length, failed: failed.length };
    });
  }

  async #publish(row: ClaimedRow): Promise<void> {
    const { broker, mandatory, publishTimeoutMs, observeLag } = this.#options;
    const createdMs = Number(row.created_ms);
    await broker.publish(row.exchange, row.routing_key, Buffer.from(row.payload, 'utf8'), {
      messageId: row.message_id,
      contentType: 'application/json',
      headers: { ...(JSON.parse(row.headers) as Record<string, unknown>), 'x-outbox-created-at': Math.round(createdMs) },
      mandatory,
      timeout: publishTimeoutMs,
    });
    observeLag(Math.max(0, Date.now() - createdMs) / 1000);
  }

  /** LISTEN on the table's channel; postgres.js re-listens after reconnects (and then we look again). */
  async #listen(): Promise<void> {
    const { db, table, logger } = this.#options;
    try {
      if (!db.embedded) {
        const meta = await db.sql.listen(table.channel, () => this.wake(), () => this.wake());
        this.#unlisten = () => meta.unlisten();
      } else {
        const client = (db.db as unknown as { $client?: { listen?: (channel: string, cb: () => void) => Promise<() => Promise<void>> } }).$client;
        if (!client?.listen) throw new Error('this PGlite has no listen()');
        this.#unlisten = await client.listen(table.channel, () => this.wake());
      }
      if (this.#stop.signal.aborted) await this.#unlisten();
    } catch (error) {
      logger.warn({ err: error }, `outbox cannot LISTEN on ${table.channel}; relying on the ${this.#options.pollIntervalMs} ms poll`);
    }
  }
}
