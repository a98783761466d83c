import { performance } from 'node:perf_hooks';
import {
  messageOf,
  definePlugin,
  PLUGIN_API_VERSION,
  PlinthError,
  type HealthCheck,
  type HealthCheckContext,
  type HookContext,
  type OnStart,
  type OnStop,
  type PluginContext,
  type PreStart,
  type SettingsOf,
} from '@plinth/core';
import { AmqpDriver } from './amqp/amqp-driver.js';
import { connectionTarget } from './amqp/connect-options.js';
import type { BackoffOptions } from '@plinth/core/lifecycle';
import type { BrokerDriver } from './driver.js';
import { EmbeddedDriver } from './embedded/embedded-driver.js';
import { RabbitMqConfigError } from './errors.js';
import { encodeMessage, type MessageHandler, type PublishOptions, type PublishReceipt } from './message.js';
import { rabbitmqSettings } from './settings.js';
import { createBrokerMetrics, type BrokerMetrics } from './broker-metrics.js';
import { emptyStats, type RabbitMqStats } from './stats.js';
import { SubscriptionRunner, type SubscribeOptions, type Subscription } from './subscription.js';
import { DEFAULT_DEAD_LETTER_EXCHANGE, resolveTopology, retryQueueName, validateTopology, type TopologyDeclaration } from './topology.js';

/** Code-only options of a RabbitMQ instance. */
export interface RabbitMqOptions {
  /** Exchanges, queues and bindings declared on connect and after every reconnect. */
  readonly topology?: TopologyDeclaration;
}

export type RabbitMqSettings = SettingsOf<typeof rabbitmqSettings>;

/** Round-trip bound of a health check called outside the app's probes. */
const DIRECT_CHECK_TIMEOUT_MS = 1000;

type Phase = 'created' | 'ready' | 'started' | 'stopping' | 'stopped';

/**
 * A RabbitMQ connection (or the in-process broker) with confirmed publishing and
 * graceful consumers. Inject it with `@InjectPlugin('<prefix>')`.
 */
export class RabbitMqPlugin implements PreStart, OnStart, OnStop, HealthCheck {
  readonly prefix: string;
  /** True when the instance runs embedded, on the in-process broker, rather than on RabbitMQ. */
  readonly embedded: boolean;
  readonly #ctx: PluginContext<RabbitMqSettings, RabbitMqOptions>;
  readonly #driver: BrokerDriver;
  readonly #subscriptions = new Set<SubscriptionRunner<unknown>>();
  readonly #deadLetterExchange: string;
  /** Queues the topology declares, to find each subscription's delay queue. */
  readonly #declaredQueues: ReadonlySet<string>;
  readonly #stats = emptyStats();
  readonly #metrics: BrokerMetrics;
  #phase: Phase = 'created';

  constructor(ctx: PluginContext<RabbitMqSettings, RabbitMqOptions>) {
    this.#ctx = ctx;
    this.prefix = ctx.prefix;
    const { settings, options, logger } = ctx;
    const topology = resolveTopology(options.topology);
    this.#declaredQueues = new Set(topology.flatMap((step) => (step.kind === 'queue' ? [step.name] : [])));
    this.#deadLetterExchange = options.topology?.deadLetterExchange ?? DEFAULT_DEAD_LETTER_EXCHANGE;
    const backoff: BackoffOptions = { initialDelayMs: Math.max(1, settings.reconnectDelay), maxDelayMs: Math.max(settings.reconnectDelay, settings.reconnectMaxDelay) };
    this.embedded = ctx.embedded;
    this.#metrics = createBrokerMetrics(ctx.metrics, this.#stats, () => {
      let inFlight = 0;
      for (const subscription of this.#subscriptions) inFlight += subscription.inFlight;
      return inFlight;
    });
    this.#driver = this.embedded
      ? new EmbeddedDriver(topology, backoff, logger)
      : new AmqpDriver({
          target: connectionTarget(settings, `${ctx.appName}:${ctx.prefix}`),
          topology,
          backoff,
          connectTimeoutMs: settings.connectTimeout,
          logger,
          availability: ctx.availability,
          redact: ctx.redact,
          stats: this.#stats,
        });
  }

  /** Counters since creation: confirms, rejections, re-sends, handled, retried, dead-lettered. */
  get stats(): Readonly<RabbitMqStats> {
    return { ...this.#stats };
  }

  /** `host:port` of the broker, or `in-process broker`. */
  get target(): string {
    return this.#driver.target;
  }

  /** Connects, declares the topology, opens the confirm channel. */
  #stopping: Promise<void> | undefined;

  async preStart(ctx: HookContext): Promise<void> {
    try {
      await this.#driver.open(ctx.signal);
    } catch (error) {
      // The driver closed whatever this attempt opened; a retry starts from scratch.
      throw new Error(this.#ctx.redact(`rabbitmq "${this.prefix}" at ${this.target}: ${messageOf(error)}`), { cause: error });
    }
    this.#phase = 'ready';
  }

  /** Starts the consumers registered so far. */
  onStart(): void {
    this.#phase = 'started';
    for (const subscription of this.#subscriptions) subscription.start(this.#driver);
  }

  /**
   * Cancels consumers, waits for handlers in flight to finish and settle their messages,
   * waits for outstanding confirms (all bounded by the stop deadline), then closes the
   * channels and the connection.
   */
  onStop(ctx: HookContext): Promise<void> {
    // A second call (concurrent or later) joins the first: closing twice would hang.
    this.#stopping ??= this.#stop(ctx);
    return this.#stopping;
  }

  async #stop(ctx: HookContext): Promise<void> {
    this.#phase = 'stopping';
    const subscriptions = [...this.#subscriptions];
    await Promise.all(subscriptions.map((s) => s.drain(ctx.signal)));
    await this.#driver.settle(ctx.signal);
    await Promise.all(subscriptions.map((s) => s.close()));
    await this.#driver.close();
    this.#phase = 'stopped';
  }

  /**
   * Up when the connection, the publish channel and every consumer channel are open and
   * the broker answers a round trip (a passive declare) within the health timeout
   * (`ctx.signal`; called directly, 1 s).
   */
  async healthCheck(ctx?: HealthCheckContext): Promise<void> {
    await this.#driver.check(ctx?.signal ?? AbortSignal.timeout(DIRECT_CHECK_TIMEOUT_MS));
  }

  /**
   * Publishes `body` (JSON, or a Buffer as is) and resolves once the broker confirmed it.
   * Rejects with a `PublishError`: nacked, unroutable (`mandatory`, the default), unknown
   * exchange, not confirmed within PUBLISH_TIMEOUT (waiting for a reconnect included),
   * or the plugin stopped. Never drops a message silently.
   */
  async publish(exchange: string, routingKey: string, body: unknown, options: PublishOptions = {}): Promise<PublishReceipt> {
    if (this.#phase === 'created' || this.#phase === 'stopped') this.#ctx.availability.assertAvailable();
    const { content, properties } = encodeMessage(body, options);
    this.#metrics.publishing();
    const started = performance.now();
    try {
      await this.#driver.publish({
        exchange,
        routingKey,
        content,
        properties,
        mandatory: options.mandatory ?? true,
        timeoutMs: options.timeout ?? this.#ctx.settings.publishTimeout,
      });
    } catch (error) {
      this.#stats.rejected += 1;
      this.#metrics.published((performance.now() - started) / 1000, error);
      throw error;
    }
    this.#stats.confirmed += 1;
    this.#metrics.published((performance.now() - started) / 1000);
    return { messageId: properties.messageId };
  }

  /** Publishes straight to a queue (through the default exchange). */
  sendToQueue(queue: string, body: unknown, options: PublishOptions = {}): Promise<PublishReceipt> {
    return this.publish('', queue, body, options);
  }

  /**
   * Runs `handler` for each message of `queue`. Registered before start, it begins
   * consuming in onStart; after start, at once. Resolve to ack; throw to retry after a
   * growing wait, up to `maxAttempts`, then the message is dead-lettered. Throw
   * `PluginUnavailableError` to hand the message back and pause the consumer until the
   * dependency is back.
   */
  subscribe<T = unknown>(queue: string, handler: MessageHandler<T>, options: SubscribeOptions<T> = {}): Subscription {
    if (this.#phase === 'stopping' || this.#phase === 'stopped') {
      throw new PlinthError(`rabbitmq "${this.prefix}" is stopping: cannot subscribe to "${queue}"`);
    }
    if (options.maxAttempts !== undefined && !(Number.isSafeInteger(options.maxAttempts) && options.maxAttempts >= 1)) {
      throw new RabbitMqConfigError(`subscribe("${queue}"): maxAttempts must be a whole number of at least 1`);
    }
    if (options.prefetch !== undefined && !(Number.isSafeInteger(options.prefetch) && options.prefetch >= 1)) {
      throw new RabbitMqConfigError(`subscribe("${queue}"): prefetch must be a whole number of at least 1`);
    }
    for (const key of ['retryDelay', 'maxRetryDelay'] as const) {
      const value = options[key];
      if (value !== undefined && !(Number.isSafeInteger(value) && value >= 1)) {
        throw new RabbitMqConfigError(`subscribe("${queue}"): ${key} must be a whole number of milliseconds, at least 1`);
      }
    }
    const subscription = new SubscriptionRunner<T>(queue, handler, options, {
      publish: (message) => this.#driver.publish(message),
      retryQueue: this.#declaredQueues.has(retryQueueName(queue)) ? retryQueueName(queue) : undefined,
      publishTimeoutMs: this.#ctx.settings.publishTimeout,
      deadLetterExchange: this.#deadLetterExchange,
      prefetch: this.#ctx.settings.prefetch,
      logger: this.#ctx.logger.child({ queue }),
      stats: this.#stats,
      handled: (queue, seconds, ok) => this.#metrics.handled(queue, seconds, ok),
      onCancelled: (s) => this.#subscriptions.delete(s),
      reportError: (error, details) =>
        this.#ctx.app.reportError(error, { source: 'plugin', component: this.prefix, pluginType: this.#ctx.type, attempt: details.attempt, details }),
    });
    this.#subscriptions.add(subscription as SubscriptionRunner<unknown>);
    if (this.#phase === 'started') subscription.start(this.#driver);
    return subscription;
  }
}

/**
 * Declares a RabbitMQ instance: `rabbitmq('events', { topology })`. Critical by default.
 * Settings come from `{APP}_{PREFIX}_URL` or `_HOST`, `_PORT`, `_USER`, `_PASSWORD`, …;
 * with neither URL nor HOST set it runs embedded, on the in-process broker (outside
 * production, or with `…_EMBEDDED=true`).
 */
export const rabbitmq = definePlugin<typeof rabbitmqSettings, RabbitMqPlugin, RabbitMqOptions>({
  type: 'rabbitmq',
  pluginApi: `^${PLUGIN_API_VERSION}`,
  critical: true,
  settings: rabbitmqSettings,
  embedded: { serverSetting: ['url', 'host'] },
  validateOptions: (options) => validateTopology(options.topology),
  create: (ctx) => new RabbitMqPlugin(ctx),
  // Declared `optional: true` and turned off: never started, so publish refuses with
  // PluginUnavailableError naming `…_ENABLED=false`, and subscriptions never receive.
  noop: (ctx) => new RabbitMqPlugin({ ...ctx, embedded: true }),
});
