import { performance } from 'node:perf_hooks';
import amqp, { type Channel, type ChannelModel } from 'amqplib';
import type { Logger, PluginAvailability } from '@plinth/core';
import { backoffDelay, OperationTimeoutError, sleep, withTimeout, type BackoffOptions } from '@plinth/core/lifecycle';
import type { BrokerDriver, ConsumerHandle, Delivery, OutgoingMessage } from '../driver.js';
import { ExchangeNotFoundError, PublishTimeoutError } from '../errors.js';
import type { RabbitMqStats } from '../stats.js';
import { applyTopology, type TopologyStep } from '../topology.js';
import { AmqpConsumer } from './amqp-consumer.js';
import { ConfirmPublisher } from './confirm-publisher.js';
import { RoundTripCheck } from './round-trip-check.js';
import type { ConnectionTarget } from './connect-options.js';

export interface AmqpDriverOptions {
  readonly target: ConnectionTarget;
  readonly topology: readonly TopologyStep[];
  readonly backoff: BackoffOptions;
  /** Bounds one reconnect attempt (connect, channels, topology). */
  readonly connectTimeoutMs: number;
  readonly logger: Logger;
  readonly availability: PluginAvailability;
  readonly redact: (text: string) => string;
  readonly stats: RabbitMqStats;
}

const NOT_FOUND = 404;

type State = 'closed' | 'open' | 'reconnecting' | 'stopped';

/**
 * RabbitMQ through amqplib, kept connected. On connect it declares the topology and
 * opens the confirm channel; consumers follow. When the connection drops it marks the
 * plugin unavailable, reconnects with exponential backoff and jitter, declares the
 * topology again, reopens the channels, restarts every consumer, then marks it
 * available. Every connection and channel has an `error` listener.
 */
export class AmqpDriver implements BrokerDriver {
  readonly target: string;
  readonly #options: AmqpDriverOptions;
  readonly #logger: Logger;
  readonly #publisher: ConfirmPublisher;
  readonly #consumers = new Set<AmqpConsumer>();
  readonly #roundTrip = new RoundTripCheck();
  #model: ChannelModel | undefined;
  #state: State = 'closed';
  #blocked: string | undefined;
  #watchingHang = false;
  #reconnect: AbortController | undefined;
  #reconnecting: Promise<void> | undefined;
  readonly #closedModels = new WeakSet<ChannelModel>();
  /** Exchanges known to exist, so a publish to them cannot close the confirm channel with 404. */
  readonly #knownExchanges = new Set<string>();
  readonly #exchangeChecks = new Map<string, Promise<boolean>>();

  constructor(options: AmqpDriverOptions) {
    this.#options = options;
    this.#logger = options.logger;
    this.target = options.target.address;
    this.#publisher = new ConfirmPublisher(options.logger, options.backoff, options.stats, (exchange) => this.#knownExchanges.delete(exchange));
    this.#knownExchanges.add('');
    for (const step of options.topology) if (step.kind === 'exchange') this.#knownExchanges.add(step.name);
  }

  async open(signal: AbortSignal): Promise<void> {
    if (this.#state === 'open') return;
    const model = await this.#connect(signal);
    this.#state = 'open';
    this.#logger.info({ target: this.target }, 'connected to RabbitMQ');
    for (const consumer of this.#consumers) consumer.attach(model);
  }

  publish(message: OutgoingMessage): Promise<void> {
    if (this.#knownExchanges.has(message.exchange)) return this.#publisher.publish(message);
    return this.#publishChecked(message);
  }

  /** First publish to an exchange the topology does not declare: check it exists first. */
  async #publishChecked(message: OutgoingMessage): Promise<void> {
    const { exchange, routingKey, properties } = message;
    const started = performance.now();
    const missing = await withTimeout(this.#exchangeMissing(exchange), message.timeoutMs).catch((error: unknown) => {
      if (!OperationTimeoutError.is(error)) throw error;
      throw new PublishTimeoutError(exchange, routingKey, properties.messageId, message.timeoutMs, 'never sent: the broker did not answer the exchange check');
    });
    if (missing) throw new ExchangeNotFoundError(exchange, routingKey, properties.messageId);
    const timeoutMs = Math.max(1, message.timeoutMs - (performance.now() - started));
    await this.#publisher.publish({ ...message, timeoutMs });
  }

  consume(queue: string, prefetch: number, onDelivery: (delivery: Delivery) => void): ConsumerHandle {
    const consumer = new AmqpConsumer(queue, prefetch, onDelivery, this.#options.backoff, this.#logger);
    this.#consumers.add(consumer);
    if (this.#model) consumer.attach(this.#model);
    const consumers = this.#consumers;
    return {
      ready: consumer.ready,
      get active() {
        return consumer.active;
      },
      cancel: () => consumer.cancel(),
      async close() {
        consumers.delete(consumer);
        await consumer.close();
      },
    };
  }

  settle(signal: AbortSignal): Promise<void> {
    return this.#publisher.settle(signal);
  }

  async close(): Promise<void> {
    this.#state = 'stopped';
    this.#reconnect?.abort(new Error('stopping'));
    await this.#reconnecting;
    await Promise.all([...this.#consumers].map((c) => c.close()));
    await this.#publisher.close();
    const model = this.#model;
    this.#model = undefined;
    if (model) await model.close().catch(() => undefined);
    this.#logger.debug({ target: this.target }, 'connection closed');
  }

  /** Throws unless connected with every channel open and the broker answers a round trip before `signal` aborts. */
  async check(signal: AbortSignal): Promise<void> {
    const model = this.#model;
    if (!model) throw new Error(`not connected to ${this.target}${this.#state === 'reconnecting' ? ' (reconnecting)' : ''}`);
    if (!this.#publisher.ready) throw new Error('the publish channel is closed (reopening)');
    const idle = [...this.#consumers].filter((c) => !c.cancelled && !c.active).map((c) => c.queue);
    if (idle.length > 0) throw new Error(`consumer channel closed for queue ${idle.map((q) => `"${q}"`).join(', ')} (reopening)`);
    if (this.#blocked !== undefined) throw new Error(`the broker blocked the connection: ${this.#blocked}`);
    try {
      await this.#roundTrip.check(model, signal);
    } catch (error) {
      this.#onUnanswered(model, error);
      throw error;
    }
  }

  /**
   * The broker took the bytes but did not answer: unavailable (readiness, and requests
   * failing on a publish answer 503) until a round trip comes back on this connection.
   * Losing the connection hands over to the reconnect loop.
   */
  #onUnanswered(model: ChannelModel, error: unknown): void {
    const { availability, redact } = this.#options;
    if (this.#model !== model || this.#state !== 'open' || !availability.available || this.#watchingHang) return;
    const reason = redact(`${this.target} does not answer: ${(error as Error).message}`);
    this.#logger.warn({ target: this.target }, reason);
    availability.markUnavailable(reason);
    this.#watchingHang = true;
    void (async () => {
      try {
        while (this.#model === model && this.#state === 'open') {
          try {
            await this.#roundTrip.check(model, AbortSignal.timeout(this.#options.connectTimeoutMs));
            availability.markAvailable();
            this.#logger.info({ target: this.target }, 'the broker answers again');
            return;
          } catch {
            await sleep(250).catch(() => undefined);
          }
        }
      } finally {
        this.#watchingHang = false;
      }
    })();
  }

  /**
   * Whether `exchange` certainly does not exist, checked once on a throwaway channel: a
   * publish to a missing exchange would close the shared confirm channel, and every
   * message awaiting a confirm on it would have to be sent again (duplicates). When the
   * check cannot run (disconnected), the publish goes ahead and the 404 is handled there.
   */
  #exchangeMissing(exchange: string): Promise<boolean> {
    const model = this.#model;
    if (!model) return Promise.resolve(false);
    let check = this.#exchangeChecks.get(exchange);
    if (!check) {
      check = this.#checkExchange(model, exchange).finally(() => this.#exchangeChecks.delete(exchange));
      this.#exchangeChecks.set(exchange, check);
    }
    return check;
  }

  async #checkExchange(model: ChannelModel, exchange: string): Promise<boolean> {
    let channel: Channel | undefined;
    try {
      channel = await model.createChannel();
      channel.on('error', () => undefined);
      await channel.checkExchange(exchange);
      this.#knownExchanges.add(exchange);
      await channel.close().catch(() => undefined);
      return false;
    } catch (error) {
      return (error as { code?: unknown }).code === NOT_FOUND;
    }
  }

  /** One connection with its publish channel and topology; on failure nothing stays open. */
  async #connect(signal: AbortSignal): Promise<ChannelModel> {
    const { target, connectTimeoutMs } = this.#options;
    const bounded = AbortSignal.any([signal, AbortSignal.timeout(connectTimeoutMs)]);
    // amqplib cannot cancel a pending connect: hand its socket a signal that destroys it if
    // the deadline passes first, and that nothing aborts once the connection is open.
    const cancelConnect = new AbortController();
    const onDeadline = (): void => cancelConnect.abort(bounded.reason);
    bounded.addEventListener('abort', onDeadline, { once: true });
    // net.connect() takes `signal`; amqplib passes its socket options through.
    const socketOptions = { ...target.socket, signal: cancelConnect.signal };
    const model = await abortable(
      amqp.connect(target.options, socketOptions),
      bounded,
      (late) => void late.close().catch(() => undefined),
    ).finally(() => bounded.removeEventListener('abort', onDeadline));
    // 'error' comes before 'close' when the connection fails: stop serving from that moment.
    model.on('error', (error: Error) => {
      this.#logger.warn({ err: this.#options.redact(error.message) }, 'connection error');
      if (this.#model === model && this.#state === 'open') {
        this.#options.availability.markUnavailable(this.#options.redact(`connection to ${this.target} failed: ${error.message}`));
      }
    });
    model.on('close', (error?: Error) => {
      this.#closedModels.add(model);
      this.#onClose(model, error);
    });
    model.on('blocked', (reason: string) => {
      this.#blocked = reason;
      this.#publisher.setBlocked(true);
      this.#logger.warn({ reason }, 'the broker blocked publishing on this connection');
    });
    model.on('unblocked', () => {
      this.#blocked = undefined;
      this.#publisher.setBlocked(false);
      this.#logger.info('the broker unblocked the connection');
    });
    try {
      await abortable(this.#setUp(model), bounded);
      if (this.#closedModels.has(model)) throw new Error(`connection to ${target.address} closed while setting up`);
    } catch (error) {
      this.#publisher.detach(model);
      await model.close().catch(() => undefined);
      throw error;
    }
    this.#model = model;
    return model;
  }

  async #setUp(model: ChannelModel): Promise<void> {
    if (this.#options.topology.length > 0) {
      // A declaration that conflicts closes its channel; keep that away from the publish channel.
      const channel = await model.createChannel();
      channel.on('error', () => undefined);
      try {
        await applyTopology(channel, this.#options.topology);
      } finally {
        await channel.close().catch(() => undefined);
      }
    }
    await this.#publisher.attach(model);
  }

  #onClose(model: ChannelModel, error: Error | undefined): void {
    if (this.#model !== model) return;
    this.#model = undefined;
    this.#blocked = undefined;
    this.#roundTrip.reset();
    this.#publisher.detach();
    for (const consumer of this.#consumers) consumer.detach();
    if (this.#state !== 'open') return;
    const reason = this.#options.redact(`connection to ${this.target} lost: ${error?.message ?? 'closed'}`);
    this.#logger.warn({ target: this.target }, reason);
    this.#options.availability.markUnavailable(reason);
    this.#state = 'reconnecting';
    const abort = new AbortController();
    this.#reconnect = abort;
    this.#reconnecting = this.#reconnectLoop(abort.signal).finally(() => {
      if (this.#reconnect === abort) this.#reconnect = undefined;
    });
  }

  async #reconnectLoop(signal: AbortSignal): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await sleep(backoffDelay(this.#options.backoff, attempt), signal);
        const model = await this.#connect(signal);
        this.#state = 'open';
        for (const consumer of this.#consumers) consumer.attach(model);
        this.#options.availability.markAvailable();
        this.#options.stats.reconnects += 1;
        this.#logger.info({ target: this.target, attempts: attempt }, 'reconnected to RabbitMQ');
        return;
      } catch (error) {
        if (signal.aborted) return;
        this.#logger.warn({ target: this.target, attempt, err: this.#options.redact((error as Error).message) }, 'reconnect failed; retrying');
      }
    }
  }
}

/**
 * Settles with `promise`, or rejects as soon as `signal` aborts. A value that arrives
 * after the abort goes to `discard`, so a late connection is closed, not leaked.
 */
function abortable<T>(promise: Promise<T>, signal: AbortSignal, discard?: (late: T) => void): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(reasonOf(signal));
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        if (signal.aborted) discard?.(value);
        else resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error as Error);
      },
    );
  });
}

function reasonOf(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  if (reason instanceof Error && reason.name === 'TimeoutError') return new Error('connection attempt timed out');
  return reason instanceof Error ? reason : new Error(String(reason));
}
