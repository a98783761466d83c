import amqp from 'amqplib';
import postgres from 'postgres';

/** Where the outbox keeps the message ids each consumer handled (its default schema). */
const PROCESSED = 'plinth.processed_messages';

/** Where the example's events live in RabbitMQ. */
const EVENT_QUEUES = ['example-service.user-created', 'example-service.user-created.dlq', 'example-service.user-created.retry'] as const;

/** What the database and the broker say happened to the users the client created. */
export interface EventTally {
  /** Distinct user ids in the 201 responses the client saw. */
  readonly created: number;
  readonly usersInDatabase: number;
  /** 201'd ids with no row in `users` (must be 0). */
  readonly createdButMissing: number;
  /** Events the broker accepted: distinct ids consumed, plus those still queued or dead-lettered. */
  readonly eventsPublished: number;
  /** Rows in `welcomed_users`: each the effect of one consumed event, once per user. */
  readonly eventsConsumed: number;
  readonly eventsQueued: number;
  readonly eventsDeadLettered: number;
  /** Handlings of an event whose id was already processed (a redelivery the consumer skipped). */
  readonly duplicatesSeen: number;
  /** 201'd users whose event was never consumed (must be 0). */
  readonly createdWithoutEvent: number;
  /** Users in the database without a consumed event, 201'd or not (a lost event). */
  readonly usersWithoutEvent: number;
}

/**
 * Counts events from the example's own bookkeeping. The consumer welcomes each user once:
 * the `welcomed_users` row and the message id (in the outbox's `processed_messages`,
 * `on conflict do nothing`) commit together. A BEFORE INSERT trigger on
 * `processed_messages`, which fires for conflicting rows too, records every handling in
 * `cluster_event_handlings`, so redeliveries the consumer saw can be counted.
 */
export class EventLedger {
  readonly #sql: postgres.Sql;
  readonly #amqpUrl: string;

  constructor(databaseUrl: string, amqpUrl: string) {
    this.#sql = postgres(databaseUrl, { max: 2, onnotice: () => {}, connect_timeout: 10 });
    this.#amqpUrl = amqpUrl;
  }

  /** Adds the handling log. Call once the example started (its outbox created `processed_messages`). */
  async install(): Promise<void> {
    await this.#sql.begin(async (sql) => {
      await sql`CREATE TABLE IF NOT EXISTS cluster_event_handlings (message_id text NOT NULL, handled_at timestamptz NOT NULL DEFAULT clock_timestamp())`;
      await sql`CREATE OR REPLACE FUNCTION cluster_log_event_handling() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN INSERT INTO cluster_event_handlings (message_id) VALUES (NEW.message_id); RETURN NEW; END $$`;
      await sql.unsafe(`DROP TRIGGER IF EXISTS cluster_log_event_handling ON ${PROCESSED}`);
      await sql.unsafe(`CREATE TRIGGER cluster_log_event_handling BEFORE INSERT ON ${PROCESSED} FOR EACH ROW EXECUTE FUNCTION cluster_log_event_handling()`);
    });
  }

  /** Waits until every user in the database has a consumed event, or `timeoutMs` passed. */
  async waitUntilConsumed(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if ((await this.#usersWithoutEvent()) === 0) return true;
      if (Date.now() > deadline) return false;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }

  async tally(createdIds: readonly number[]): Promise<EventTally> {
    const sql = this.#sql;
    const ids = [...new Set(createdIds)];
    const [row] = await sql<
      { users: number; missing: number; consumed: number; created_without: number; handlings: number; handled: number }[]
    >`
      WITH created AS (SELECT unnest(${sql.array(ids)}::int[]) AS id)
      SELECT
        (SELECT count(*)::int FROM users) AS users,
        (SELECT count(*)::int FROM created c WHERE NOT EXISTS (SELECT 1 FROM users u WHERE u.id = c.id)) AS missing,
        (SELECT count(*)::int FROM welcomed_users) AS consumed,
        (SELECT count(*)::int FROM created c WHERE NOT EXISTS (
          SELECT 1 FROM welcomed_users w WHERE w.user_id = c.id)) AS created_without,
        (SELECT count(*)::int FROM cluster_event_handlings) AS handlings,
        (SELECT count(DISTINCT message_id)::int FROM cluster_event_handlings) AS handled`;
    const { queued, deadLettered } = await this.#queueDepths();
    const usersWithoutEvent = await this.#usersWithoutEvent();
    return {
      created: ids.length,
      usersInDatabase: row!.users,
      createdButMissing: row!.missing,
      eventsPublished: row!.handled + queued + deadLettered,
      eventsConsumed: row!.consumed,
      eventsQueued: queued,
      eventsDeadLettered: deadLettered,
      duplicatesSeen: row!.handlings - row!.handled,
      createdWithoutEvent: row!.created_without,
      usersWithoutEvent,
    };
  }

  /** The message id of the event consumed for `userId` (the outbox gave it at write time). */
  async consumedMessageId(userId: number): Promise<string | undefined> {
    const [row] = await this.#sql<{ message_id: string }[]>`SELECT message_id FROM welcomed_users WHERE user_id = ${userId}`;
    return row?.message_id;
  }

  async close(): Promise<void> {
    await this.#sql.end({ timeout: 5 });
  }

  async #usersWithoutEvent(): Promise<number> {
    const [row] = await this.#sql<{ n: number }[]>`
      SELECT count(*)::int AS n FROM users u
      WHERE NOT EXISTS (SELECT 1 FROM welcomed_users w WHERE w.user_id = u.id)`;
    return row!.n;
  }

  /** Messages still in the example's queue and its dead-letter queue (passive checks). */
  async #queueDepths(): Promise<{ queued: number; deadLettered: number }> {
    const connection = await amqp.connect(this.#amqpUrl);
    connection.on('error', () => {});
    try {
      const depths: number[] = [];
      for (const queue of EVENT_QUEUES) {
        const channel = await connection.createChannel();
        channel.on('error', () => {});
        depths.push(await channel.checkQueue(queue).then((ok) => ok.messageCount, () => 0));
        await channel.close().catch(() => {});
      }
      return { queued: (depths[0] ?? 0) + (depths[2] ?? 0), deadLettered: depths[1] ?? 0 };
    } finally {
      await connection.close().catch(() => {});
    }
  }
}
