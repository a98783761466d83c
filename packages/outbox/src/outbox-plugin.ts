import { randomUUID } from 'node:crypto';
import {
  definePlugin,
  PLUGIN_API_VERSION,
  messageOf,
  PlinthError,
  PluginUnavailableError,
  type CommonPluginOptions,
  type HealthCheck,
  type HookContext,
  type OnStart,
  type OnStop,
  type PluginContext,
  type PluginDeclaration,
  type PreStart,
} from '@plinth/core';
import { isConnectionError, type DrizzleSchema, type PostgresPlugin, type PostgresTransaction } from '@plinth/plugin-postgres';
import type { RabbitMqPlugin } from '@plinth/plugin-rabbitmq';
import { sql, type SQLWrapper } from 'drizzle-orm';
import { OutboxTable } from './outbox-table.js';
import { Relay, type ClaimMode } from './relay.js';
import { createRelayMetrics, RelayCounts, type BacklogSnapshot } from './relay-metrics.js';
import { rowsOf } from './rows.js';
import { outboxSettings, type OutboxSettings, type OutboxSettingsSchema } from './settings.js';

/** Code options of `outbox(prefix, options)`. */
export interface OutboxOptions {
  /** Prefix of the `postgres` plugin whose database holds the outbox. */
  readonly db: string;
  /** Prefix of the `rabbitmq` plugin the relay publishes through. */
  readonly broker: string;
  /** Exchange of events added without one. */
  readonly exchange?: string;
  /** Table name in the SCHEMA setting's schema. Default: the prefix (`plinth.user_events`). */
  readonly table?: string;
  /** How several relays share the table. Default `skip-locked`. */
  readonly claim?: ClaimMode;
  /** Publish with `mandatory` (default true): an event no queue is bound for stays pending, and health says why. */
  readonly mandatory?: boolean;
}

/** Options of one `add`. */
export interface AddOptions {
  /** Events with the same key are published in the order they were written. */
  readonly key?: string;
  /** Overrides the outbox's default exchange. */
  readonly exchange?: string;
  readonly headers?: Readonly<Record<string, string | number | boolean>>;
  /** Default: a random UUID, assigned now. It becomes the AMQP message id. */
  readonly messageId?: string;
}

/** Anything with drizzle's `execute`: a transaction handle (`tx`) or the database. */
export interface SqlExecutor {
  execute(query: SQLWrapper): PromiseLike<unknown>;
}

/** What `processedOnce` returns: the handler's result, or that the message was handled before. */
export type ProcessedOutcome<T> = { readonly duplicate: false; readonly result: T } | { readonly duplicate: true };

type State = 'created' | 'started' | 'stopping' | 'stopped';

const BACKLOG_CACHE_MS = 500;

/**
 * A transactional outbox: `add(tx, …)` writes an event in the caller's transaction; the
 * relay publishes committed events through the broker plugin with confirms and marks
 * them sent. `processedOnce` gives consumers an exactly-once effect per message id.
 */
export class OutboxPlugin implements PreStart, OnStart, OnStop, HealthCheck {
  readonly prefix: string;
  readonly table: OutboxTable;
  readonly #ctx: PluginContext<OutboxSettings, OutboxOptions>;
  readonly #db: PostgresPlugin<DrizzleSchema>;
  readonly #broker: RabbitMqPlugin;
  readonly #counts = new RelayCounts();
  readonly #relay: Relay;
  #state: State = 'created';
  #lastFailure: unknown;
  #backlog: { at: number; value: Promise<BacklogSnapshot> } | undefined;
  #pruneTimer: NodeJS.Timeout | undefined;
  #pruning: Promise<void> | undefined;

  constructor(ctx: PluginContext<OutboxSettings, OutboxOptions>) {
    this.#ctx = ctx;
    this.prefix = ctx.prefix;
    const { options, settings } = ctx;
    this.#db = dependency(ctx, options.db, 'postgres', (p) => typeof (p as PostgresPlugin).transaction === 'function') as PostgresPlugin<DrizzleSchema>;
    this.#broker = dependency(ctx, options.broker, 'rabbitmq', (p) => typeof (p as RabbitMqPlugin).publish === 'function') as RabbitMqPlugin;
    this.table = new OutboxTable(settings.schema, options.table ?? ctx.prefix);
    const observeLag = createRelayMetrics(ctx.metrics, this.#counts, () => this.#snapshot().catch(() => undefined));
    this.#relay = new Relay({
      table: this.table,
      db: this.#db,
      broker: this.#broker,
      claim: options.claim ?? 'skip-locked',
      mandatory: options.mandatory ?? true,
      batchSize: settings.batchSize,
      pollIntervalMs: settings.pollInterval,
      publishTimeoutMs: settings.publishTimeout,
      logger: ctx.logger,
      counts: this.#counts,
      observeLag,
      onOutcome: (failure) => this.#onOutcome(failure),
    });
  }

  /** `schema.table`, for logs. */
  get target(): string {
    return `${this.table.schema}.${this.table.table} → ${this.#ctx.options.broker}`;
  }

  /** Events published (confirmed and marked sent) and publishes that failed, since start. */
  get stats(): { readonly published: number; readonly failed: number } {
    return { published: this.#counts.published, failed: this.#counts.failed };
  }

  /**
   * Writes an event in the caller's transaction: it is published only if the
   * transaction commits. Resolves with its message id (assigned now), which consumers
   * see as `message.id`.
   *
   * ```ts
   * await db.transaction(async (tx) => {
   *   const [user] = await tx.insert(users).values(input).returning();
   *   await outbox.add(tx, 'user.created', { userId: user.id }, { key: `user:${user.id}` });
   * });
   * ```
   */
  async add(tx: SqlExecutor, routingKey: string, payload: unknown, options: AddOptions = {}): Promise<string> {
    const exchange = options.exchange ?? this.#ctx.options.exchange;
    if (exchange === undefined) throw new PlinthError(`outbox "${this.prefix}": add("${routingKey}") needs an exchange (none given and no default in outbox options)`);
    const json = JSON.stringify(payload);
    if (json === undefined) throw new TypeError(`outbox "${this.prefix}": the payload of "${routingKey}" must be JSON-serialisable`);
    const messageId = options.messageId ?? randomUUID();
    await tx.execute(sql`
      insert into ${this.table.ref} (message_id, exchange, routing_key, message_key, payload, headers)
      values (${messageId}::uuid, ${exchange}, ${routingKey}, ${options.key ?? null}, ${json}::json, ${JSON.stringify(options.headers ?? {})}::json)`);
    return messageId;
  }

  /**
   * Runs `handler` at most once per message id (and consumer): its writes and the record
   * of the id commit in one transaction, so a redelivered message finds the id and skips,
   * and a handler that throws leaves no record. A database connection error becomes a
   * `PluginUnavailableError`, which pauses a plinth subscription instead of burning its
   * attempts.
   *
   * ```ts
   * mq.subscribe('mailer.user-created', (message) =>
   *   outbox.processedOnce(message, (tx) => tx.insert(welcomes).values({ userId: message.body.userId })));
   * ```
   */
  async processedOnce<T, TSchema extends DrizzleSchema = Record<string, never>>(
    message: { readonly id: string; readonly queue?: string },
    handler: (tx: PostgresTransaction<TSchema>) => Promise<T>,
    options: { readonly consumer?: string } = {},
  ): Promise<ProcessedOutcome<T>> {
    const consumer = options.consumer ?? message.queue ?? this.prefix;
    try {
      return await this.#db.transaction(async (tx) => {
        const fresh = rowsOf(
          await tx.execute(sql`insert into ${this.table.processedRef} (consumer, message_id) values (${consumer}, ${message.id})
                               on conflict do nothing returning 1 as fresh`),
        );
        if (fresh.length === 0) return { duplicate: true } as const;
        return { duplicate: false, result: await handler(tx as unknown as PostgresTransaction<TSchema>) } as const;
      });
    } catch (error) {
      if (isConnectionError(error)) {
        throw new PluginUnavailableError('postgres', this.#ctx.options.db, messageOf(error));
      }
      throw error;
    }
  }

  /** Pending events and the age of the oldest, read from the table (cached for 500 ms). */
  backlog(): Promise<BacklogSnapshot> {
    return this.#snapshot();
  }

  /** Creates the outbox table (idempotent, under an advisory lock). */
  async preStart(): Promise<void> {
    await this.table.migrate(this.#db.db);
  }

  /** Starts the relay (woken by NOTIFY, with the poll as a safety net) and pruning. */
  onStart(): void {
    this.#state = 'started';
    this.#relay.start();
    this.#pruneTimer = setInterval(() => {
      this.#pruning ??= this.prune()
        .catch((error: unknown) => this.#ctx.logger.warn({ err: error }, 'pruning sent outbox events failed; next try at the next interval'))
        .then(() => undefined)
        .finally(() => (this.#pruning = undefined));
    }, this.#ctx.settings.pruneInterval);
    this.#pruneTimer.unref();
  }

  /** Stops claiming and lets the batch in flight finish within the stop deadline. */
  async onStop(ctx: HookContext): Promise<void> {
    this.#state = 'stopping';
    clearInterval(this.#pruneTimer);
    const finished = await this.#relay.stop(ctx.signal);
    await this.#pruning;
    this.#state = 'stopped';
    if (!finished) this.#ctx.logger.warn('stop deadline reached with a batch in flight; its events stay pending and are published again');
  }

  /**
   * Down (so the app reports `degraded`, never unready: the outbox is not critical) while
   * publishing fails or the oldest pending event is older than STALE_AFTER; the message
   * gives the backlog's size and age.
   */
  async healthCheck(): Promise<void> {
    const { pending, oldestMs } = await this.#snapshot();
    const problems: string[] = [];
    if (this.#lastFailure !== undefined) problems.push(`publishing fails: ${this.#ctx.redact(messageOf(this.#lastFailure))}`);
    if (oldestMs > this.#ctx.settings.staleAfter) problems.push(`oldest pending event is older than ${this.#ctx.settings.staleAfter} ms`);
    if (problems.length > 0) throw new Error(`${pending} events pending, oldest ${(oldestMs / 1000).toFixed(1)} s; ${problems.join('; ')}`);
  }

  /** Deletes sent events older than RETENTION; returns how many. */
  async prune(): Promise<number> {
    let total = 0;
    for (;;) {
      const deleted = rowsOf(
        await this.#db.db.execute(sql`
          delete from ${this.table.ref} where position in (
            select position from ${this.table.ref}
            where sent_at is not null and sent_at < clock_timestamp() - make_interval(secs => ${this.#ctx.settings.retention / 1000})
            order by position limit 5000)
          returning 1`),
      );
      total += deleted.length;
      if (deleted.length < 5000 || this.#state !== 'started') return total;
    }
  }

  /** Wakes the relay now. */
  wake(): void {
    this.#relay.wake();
  }

  #snapshot(): Promise<BacklogSnapshot> {
    const now = performance.now();
    if (this.#backlog && now - this.#backlog.at < BACKLOG_CACHE_MS) return this.#backlog.value;
    const value = this.#relay.backlog();
    this.#backlog = { at: now, value };
    value.catch(() => (this.#backlog = undefined));
    return value;
  }

  #onOutcome(failure: unknown): void {
    const availability = this.#ctx.availability;
    if (failure === undefined) {
      if (this.#lastFailure !== undefined) this.#ctx.logger.info('outbox publishing works again');
      this.#lastFailure = undefined;
      if (!availability.available && this.#state === 'started') availability.markAvailable();
      return;
    }
    this.#lastFailure = failure;
    if (availability.available && this.#state === 'started') availability.markUnavailable(this.#ctx.redact(messageOf(failure)));
  }
}

function dependency(ctx: PluginContext<OutboxSettings, OutboxOptions>, prefix: string, type: string, check: (p: object) => boolean): object {
  const instance = ctx.dependencies[prefix];
  if (instance === undefined || !check(instance)) {
    throw new PlinthError(`outbox "${ctx.prefix}": "${prefix}" must be a ${type} plugin declared in the same app`);
  }
  return instance;
}

const definition = definePlugin<OutboxSettingsSchema, OutboxPlugin, OutboxOptions>({
  type: 'outbox',
  pluginApi: `^${PLUGIN_API_VERSION}`,
  critical: false,
  settings: outboxSettings,
  validateOptions(options) {
    for (const key of ['db', 'broker'] as const) {
      if (typeof options[key] !== 'string' || options[key] === '') throw new TypeError(`outbox: the ${key} option must name a plugin prefix`);
    }
    if (options.table !== undefined) void new OutboxTable('plinth', options.table);
    if (options.claim !== undefined && options.claim !== 'skip-locked' && options.claim !== 'advisory-lock') {
      throw new TypeError('outbox: claim must be skip-locked or advisory-lock');
    }
  },
  create: (ctx) => new OutboxPlugin(ctx),
});

/** Everything `outbox(prefix, options)` accepts. */
export type OutboxPluginOptions = CommonPluginOptions<OutboxSettingsSchema> & OutboxOptions;

/**
 * Declares an outbox on a postgres and a rabbitmq plugin of the same app. It starts after
 * both and stops before both. Not critical: a broker outage leaves the app `degraded`
 * while events wait in the table.
 *
 * ```ts
 * createApp({ plugins: [postgres('primary_db'), rabbitmq('events'), outbox('user_events', { db: 'primary_db', broker: 'events', exchange: 'users' })] });
 * ```
 */
export function outbox(prefix: string, options: OutboxPluginOptions): PluginDeclaration<OutboxPlugin> {
  const dependsOn = [...new Set([options.db, options.broker, ...(options.dependsOn ?? [])])];
  return definition(prefix, { ...options, dependsOn });
}
