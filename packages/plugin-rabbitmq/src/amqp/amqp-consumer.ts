import type { Channel, ChannelModel, ConsumeMessage } from 'amqplib';
import { messageOf, type Logger } from '@plinth/core';
import { backoffDelay, type BackoffOptions } from '@plinth/core/lifecycle';
import type { ConsumerHandle, Delivery } from '../driver.js';
import type { ReceivedProperties } from '../message.js';

/**
 * One consumer on its own channel (so its prefetch is its own and a channel error
 * elsewhere does not stop it). It survives reconnects: the driver attaches it to each
 * new connection; a channel lost while the connection lives (queue deleted, broker
 * cancel) is reopened here, with backoff, until it works or the consumer is cancelled.
 */
export class AmqpConsumer implements ConsumerHandle {
  readonly ready: Promise<void>;
  readonly #queue: string;
  readonly #prefetch: number;
  readonly #onDelivery: (delivery: Delivery) => void;
  readonly #backoff: BackoffOptions;
  readonly #logger: Logger;
  #resolveReady!: () => void;
  #model: ChannelModel | undefined;
  #attaching: ChannelModel | undefined;
  #channel: Channel | undefined;
  #consumerTag: string | undefined;
  #reopenTimer: NodeJS.Timeout | undefined;
  #attempt = 0;
  #cancelled = false;

  constructor(queue: string, prefetch: number, onDelivery: (delivery: Delivery) => void, backoff: BackoffOptions, logger: Logger) {
    this.#queue = queue;
    this.#prefetch = prefetch;
    this.#onDelivery = onDelivery;
    this.#backoff = backoff;
    this.#logger = logger;
    this.ready = new Promise((resolve) => {
      this.#resolveReady = resolve;
    });
  }

  get queue(): string {
    return this.#queue;
  }

  get active(): boolean {
    return this.#channel !== undefined && this.#consumerTag !== undefined && !this.#cancelled;
  }

  get cancelled(): boolean {
    return this.#cancelled;
  }

  /** Starts consuming on a new connection (retrying with backoff if that fails). */
  attach(model: ChannelModel): void {
    if (this.#cancelled) return;
    clearTimeout(this.#reopenTimer);
    this.#reopenTimer = undefined;
    this.#model = model;
    this.#attempt = 0;
    void this.#tryAttach(model);
  }

  /** The connection is gone; its deliveries went back to the queue at the broker. */
  detach(): void {
    clearTimeout(this.#reopenTimer);
    this.#reopenTimer = undefined;
    this.#model = undefined;
    this.#channel = undefined;
    this.#consumerTag = undefined;
  }

  /** Stops deliveries; deliveries in hand can still be acked on the open channel. */
  async cancel(): Promise<void> {
    this.#cancelled = true;
    clearTimeout(this.#reopenTimer);
    const channel = this.#channel;
    const tag = this.#consumerTag;
    if (!channel || !tag) return;
    try {
      await channel.cancel(tag);
    } catch (error) {
      // The channel is already gone: nothing more will be delivered on it either.
      this.#logger.debug({ queue: this.#queue, err: messageOf(error) }, 'consumer cancel on a closed channel');
    }
  }

  async close(): Promise<void> {
    this.#cancelled = true;
    const channel = this.#channel;
    this.detach();
    if (channel) await channel.close().catch(() => undefined);
  }

  async #tryAttach(model: ChannelModel): Promise<void> {
    if (this.#attaching === model || this.#cancelled || this.#model !== model) return;
    this.#attaching = model;
    try {
      await this.#open(model);
      this.#attempt = 0;
    } catch (error) {
      if (this.#model === model && !this.#cancelled) {
        this.#logger.warn({ queue: this.#queue, err: messageOf(error), attempt: this.#attempt + 1 }, 'consumer could not start; retrying');
        this.#scheduleReopen(model);
      }
    } finally {
      if (this.#attaching === model) this.#attaching = undefined;
    }
  }

  async #open(model: ChannelModel): Promise<void> {
    const channel = await model.createChannel();
    channel.on('error', (error: Error) => this.#logger.warn({ queue: this.#queue, err: error.message }, 'consumer channel closed by the broker'));
    channel.on('close', () => {
      if (this.#channel !== channel) return;
      this.#channel = undefined;
      this.#consumerTag = undefined;
      this.#scheduleReopen(model);
    });
    if (this.#cancelled || this.#model !== model) {
      await channel.close().catch(() => undefined);
      return;
    }
    // Current from here: deliveries can arrive before consume() resolves.
    this.#channel = channel;
    await channel.prefetch(this.#prefetch);
    const { consumerTag } = await channel.consume(this.#queue, (message) => this.#onMessage(channel, message), { noAck: false });
    this.#consumerTag = consumerTag;
    this.#logger.debug({ queue: this.#queue, prefetch: this.#prefetch }, 'consuming');
    this.#resolveReady();
  }

  #scheduleReopen(model: ChannelModel): void {
    if (this.#cancelled || this.#reopenTimer !== undefined || this.#model !== model) return;
    this.#attempt += 1;
    this.#reopenTimer = setTimeout(() => {
      this.#reopenTimer = undefined;
      void this.#tryAttach(model);
    }, backoffDelay(this.#backoff, this.#attempt));
  }

  #onMessage(channel: Channel, message: ConsumeMessage | null): void {
    if (message === null) {
      // The broker cancelled the consumer (queue deleted): reopen, which retries with backoff.
      this.#logger.warn({ queue: this.#queue }, 'the broker cancelled the consumer; reopening it');
      if (this.#channel === channel) this.#consumerTag = undefined;
      void channel.close().catch(() => undefined);
      return;
    }
    try {
      this.#onDelivery(toDelivery(channel, message));
    } catch (error) {
      // A throw here would reach amqplib's emitter and crash the process.
      this.#logger.error({ queue: this.#queue, err: error }, 'delivery handler threw; message returned to the queue');
      toDelivery(channel, message).nack(true);
    }
  }
}

function toDelivery(channel: Channel, message: ConsumeMessage): Delivery {
  return {
    content: message.content,
    properties: receivedProperties(message),
    exchange: message.fields.exchange,
    routingKey: message.fields.routingKey,
    redelivered: message.fields.redelivered,
    ack() {
      try {
        channel.ack(message);
      } catch {
        // Channel closed: the broker has already put the message back.
      }
    },
    nack(requeue) {
      try {
        channel.nack(message, false, requeue);
      } catch {
        // Channel closed: the broker has already put the message back.
      }
    },
  };
}

function receivedProperties(message: ConsumeMessage): ReceivedProperties {
  const p = message.properties;
  const text = (value: unknown): string | undefined => (value === undefined || value === null ? undefined : String(value));
  const num = (value: unknown): number | undefined => (typeof value === 'number' ? value : undefined);
  const fields: Record<string, unknown> = {
    messageId: text(p.messageId),
    contentType: text(p.contentType),
    timestamp: num(p.timestamp),
    headers: (p.headers ?? {}) as Record<string, unknown>,
    persistent: p.deliveryMode === 2,
    correlationId: text(p.correlationId),
    replyTo: text(p.replyTo),
    expiration: text(p.expiration),
    priority: num(p.priority),
    type: text(p.type),
  };
  for (const key of Object.keys(fields)) if (fields[key] === undefined) delete fields[key];
  return fields as unknown as ReceivedProperties;
}
