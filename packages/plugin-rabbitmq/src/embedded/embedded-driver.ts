import type { Logger } from '@plinth/core';
import { backoffDelay, type BackoffOptions } from '@plinth/core/lifecycle';
import type { BrokerDriver, ConsumerHandle, Delivery, OutgoingMessage } from '../driver.js';
import { ExchangeNotFoundError, PublishAbortedError, UnroutableError } from '../errors.js';
import { applyTopology, type TopologyStep } from '../topology.js';
import { MemoryBroker, type MemoryConsumer, type MemoryDelivery } from './memory-broker.js';

/**
 * The in-process broker behind the same driver contract as RabbitMQ: publishes are
 * confirmed once routed (or rejected: unknown exchange, unroutable `mandatory`),
 * consumers get prefetch, ack/nack and dead-lettering.
 */
export class EmbeddedDriver implements BrokerDriver {
  readonly target = 'in-process broker';
  readonly broker = new MemoryBroker();
  readonly #topology: readonly TopologyStep[];
  readonly #backoff: BackoffOptions;
  readonly #logger: Logger;
  readonly #consumers = new Set<EmbeddedConsumer>();
  #open = false;
  /** A connection keeps a process alive; so does the in-process broker while it is open. */
  #keepAlive: NodeJS.Timeout | undefined;

  constructor(topology: readonly TopologyStep[], backoff: BackoffOptions, logger: Logger) {
    this.#topology = topology;
    this.#backoff = backoff;
    this.#logger = logger;
  }

  async open(): Promise<void> {
    if (this.#open) return;
    await applyTopology(this.broker, this.#topology);
    this.#open = true;
    this.#keepAlive = setInterval(() => undefined, 2 ** 30);
    for (const consumer of this.#consumers) consumer.start();
  }

  async publish(message: OutgoingMessage): Promise<void> {
    const { exchange, routingKey, content, properties, mandatory } = message;
    if (!this.#open) throw new PublishAbortedError(exchange, routingKey, properties.messageId, 'the in-process broker is closed');
    const outcome = this.broker.publish(exchange, routingKey, content, properties);
    if (outcome === 'no-exchange') throw new ExchangeNotFoundError(exchange, routingKey, properties.messageId);
    if (outcome === 'unroutable' && mandatory) throw new UnroutableError(exchange, routingKey, properties.messageId, '312 NO_ROUTE');
  }

  consume(queue: string, prefetch: number, onDelivery: (delivery: Delivery) => void): ConsumerHandle {
    const consumer = new EmbeddedConsumer(this.broker, queue, prefetch, onDelivery, this.#backoff, this.#logger, () => this.#consumers.delete(consumer));
    this.#consumers.add(consumer);
    if (this.#open) consumer.start();
    return consumer;
  }

  async settle(): Promise<void> {
    // Publishes settle synchronously: nothing is ever waiting for a confirm.
  }

  async close(): Promise<void> {
    this.#open = false;
    clearInterval(this.#keepAlive);
    await Promise.all([...this.#consumers].map((c) => c.close()));
  }

  check(): void {
    if (!this.#open) throw new Error('the in-process broker is closed');
  }
}

class EmbeddedConsumer implements ConsumerHandle {
  readonly ready: Promise<void>;
  #resolveReady!: () => void;
  #consumer: MemoryConsumer | undefined;
  #timer: NodeJS.Timeout | undefined;
  #attempt = 0;
  #stopped = false;

  constructor(
    readonly broker: MemoryBroker,
    readonly queue: string,
    readonly prefetch: number,
    readonly onDelivery: (delivery: Delivery) => void,
    readonly backoff: BackoffOptions,
    readonly logger: Logger,
    readonly onClose: () => void,
  ) {
    this.ready = new Promise((resolve) => {
      this.#resolveReady = resolve;
    });
  }

  get active(): boolean {
    return this.#consumer !== undefined && !this.#stopped;
  }

  /** Consumes now, or retries with backoff until the queue is declared. */
  start(): void {
    if (this.#stopped || this.#consumer) return;
    try {
      this.#consumer = this.broker.consume(this.queue, this.prefetch, (d) => this.onDelivery(toDelivery(d)));
      this.#resolveReady();
    } catch (error) {
      this.#attempt += 1;
      this.logger.warn({ queue: this.queue, err: (error as Error).message, attempt: this.#attempt }, 'consumer could not start; retrying');
      this.#timer = setTimeout(() => this.start(), backoffDelay(this.backoff, this.#attempt));
    }
  }

  async cancel(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#consumer?.cancel();
  }

  async close(): Promise<void> {
    await this.cancel();
    this.#consumer?.close();
    this.#consumer = undefined;
    this.onClose();
  }
}

function toDelivery(delivery: MemoryDelivery): Delivery {
  const { message } = delivery;
  return {
    content: message.content,
    properties: message.properties,
    exchange: message.exchange,
    routingKey: message.routingKey,
    redelivered: message.redelivered,
    ack: () => delivery.ack(),
    nack: (requeue) => delivery.nack(requeue),
  };
}
