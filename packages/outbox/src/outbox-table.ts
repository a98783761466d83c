import { createHash } from 'node:crypto';
import { sql, type SQL } from 'drizzle-orm';
import type { DrizzleSchema, PostgresDatabase } from '@plinth/plugin-postgres';
import { rowsOf } from './rows.js';

const IDENTIFIER = /^[a-z_][a-z0-9_]{0,47}$/;

/** Where one outbox keeps its rows, and the names derived from it. */
export class OutboxTable {
  constructor(
    readonly schema: string,
    readonly table: string,
  ) {
    for (const [what, name] of [['schema', schema], ['table', table]] as const) {
      if (!IDENTIFIER.test(name)) throw new TypeError(`outbox ${what} name "${name}" must be lower snake case (a-z, 0-9, _), at most 48 characters`);
    }
  }

  /** `"plinth"."user_events"` */
  get ref(): SQL {
    return sql`${sql.identifier(this.schema)}.${sql.identifier(this.table)}`;
  }

  /** Ids of messages a consumer has handled, for `processedOnce`. */
  get processedRef(): SQL {
    return sql`${sql.identifier(this.schema)}.${sql.identifier('processed_messages')}`;
  }

  /** The LISTEN/NOTIFY channel a commit of new rows wakes the relays on. */
  get channel(): string {
    return `plinth_outbox_${this.schema}_${this.table}`.slice(0, 63);
  }

  /** `pg_advisory_xact_lock` key that serialises creating this table (replicas start together). */
  get migrationLockKey(): string {
    return lockKey(`plinth:outbox:migrate:${this.schema}.${this.table}`);
  }

  /** Key of the leader lock when relays elect one instead of sharing rows. */
  get leaderLockKey(): string {
    return lockKey(`plinth:outbox:leader:${this.schema}.${this.table}`);
  }

  /** The migration, one statement each; every statement is idempotent. */
  statements(): string[] {
    const s = `"${this.schema}"`;
    const t = `${s}."${this.table}"`;
    const name = (suffix: string): string => `"${`${this.table}_${suffix}`.slice(0, 63)}"`;
    return [
      `CREATE SCHEMA IF NOT EXISTS ${s}`,
      `CREATE TABLE IF NOT EXISTS ${t} (
        position bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        message_id uuid NOT NULL UNIQUE,
        exchange text NOT NULL,
        routing_key text NOT NULL,
        message_key text,
        payload json NOT NULL,
        headers json NOT NULL DEFAULT '{}',
        created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
        sent_at timestamptz,
        attempts integer NOT NULL DEFAULT 0,
        last_error text
      )`,
      `CREATE INDEX IF NOT EXISTS ${name('pending')} ON ${t} (position) WHERE sent_at IS NULL`,
      `CREATE INDEX IF NOT EXISTS ${name('pending_key')} ON ${t} (message_key, position) WHERE sent_at IS NULL AND message_key IS NOT NULL`,
      `CREATE INDEX IF NOT EXISTS ${name('sent')} ON ${t} (sent_at) WHERE sent_at IS NOT NULL`,
      // One notification per inserting statement, delivered at commit: relays wake without polling.
      `CREATE OR REPLACE FUNCTION ${s}.${name('notify')}() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN PERFORM pg_notify('${this.channel}', ''); RETURN NULL; END $$`,
      `DROP TRIGGER IF EXISTS ${name('notify')} ON ${t}`,
      `CREATE TRIGGER ${name('notify')} AFTER INSERT ON ${t} FOR EACH STATEMENT EXECUTE FUNCTION ${s}.${name('notify')}()`,
      `CREATE TABLE IF NOT EXISTS ${s}."processed_messages" (
        consumer text NOT NULL,
        message_id text NOT NULL,
        processed_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (consumer, message_id)
      )`,
    ];
  }

  /**
   * Creates the schema, table, indexes, trigger and the processed-ids table in one
   * transaction under an advisory lock: replicas starting together take turns, and a
   * second run changes nothing.
   */
  async migrate(db: PostgresDatabase<DrizzleSchema>): Promise<void> {
    await db.transaction(async (tx) => {
      await tx.execute(sql`select pg_advisory_xact_lock(${this.migrationLockKey}::bigint)`);
      const exists = await tx.execute(sql`select to_regclass(${`"${this.schema}"."${this.table}"`}) is not null as present`);
      const [row] = rowsOf<{ present: boolean }>(exists);
      // Created by an earlier start or a replica: only the IF NOT EXISTS statements run
      // again, not the trigger swap, whose table lock would make writers wait.
      const statements = this.statements().filter((s) => !row?.present || / IF NOT EXISTS /.test(s));
      for (const statement of statements) await tx.execute(sql.raw(statement));
    });
  }
}

function lockKey(text: string): string {
  return BigInt.asIntN(64, createHash('sha256').update(text).digest().readBigUInt64BE(0)).toString();
}
