import type { ExchangeType, TopologyTarget } from '../topology.js';
import type { ReceivedProperties } from '../message.js';
import { Fifo } from '../fifo.js';

/** A message as the in-process broker stores it. */
export interface StoredMessage {
  readonly content: Buffer;
  readonly properties: ReceivedProperties;
  readonly exchange: string;
  readonly routingKey: string;
  redelivered: boolean;
}

/** A message handed to a consumer; settle it exactly once. */
export interface MemoryDelivery {
  readonly message: StoredMessage;
  ack(): void;
  nack(requeue: boolean): void;
}

export type PublishOutcome = 'routed' | 'unroutable' | 'no-exchange';

interface Binding {
  readonly queue: string;
  readonly routingKey: string;
}

interface Exchange {
  readonly type: ExchangeType;
  readonly bindings: Binding[];
}

/** The broker's own errors, with AMQP reply codes so messages read like RabbitMQ's. */
export class MemoryBrokerError extends Error {
  constructor(
    readonly code: 404 | 406,
    message: string,
  ) {
    super(`${code === 404 ? 'NOT_FOUND' : 'PRECONDITION_FAILED'} - ${message}`);
  }
}

/**
 * A RabbitMQ stand-in for a single process: direct, topic and fanout exchanges, the
 * default exchange, bindings, queues with per-consumer prefetch, ack/nack with requeue,
 * and dead-lettering (`x-dead-letter-exchange`, `x-dead-letter-routing-key`) on
 * `nack(requeue: false)` and when a message's per-message TTL (`expiration`) runs out
 * while it waits in a queue. Messages live in memory: they are gone when the process exits.
 */
export class MemoryBroker implements TopologyTarget {
  readonly #exchanges = new Map<string, Exchange>();
  readonly #queues = new Map<string, MemoryQueue>();

  async assertExchange(name: string, type: string, _options?: unknown): Promise<void> {
    if (type !== 'direct' && type !== 'topic' && type !== 'fanout') throw new MemoryBrokerError(406, `exchange type "${type}" is not supported by the in-process broker`);
    const existing = this.#exchanges.get(name);
    if (existing && existing.type !== type) {
      throw new MemoryBrokerError(406, `inequivalent arg 'type' for exchange '${name}': received '${type}' but current is '${existing.type}'`);
    }
    if (!existing) this.#exchanges.set(name, { type, bindings: [] });
  }

  async assertQueue(name: string, options: { arguments?: Record<string, unknown> } = {}): Promise<void> {
    const args = options.arguments ?? {};
    const deadLetter = {
      exchange: typeof args['x-dead-letter-exchange'] === 'string' ? args['x-dead-letter-exchange'] : undefined,
      routingKey: typeof args['x-dead-letter-routing-key'] === 'string' ? args['x-dead-letter-routing-key'] : undefined,
    };
    const existing = this.#queues.get(name);
    if (existing) {
      if (existing.deadLetter.exchange !== deadLetter.exchange || existing.deadLetter.routingKey !== deadLetter.routingKey) {
        throw new MemoryBrokerError(406, `inequivalent arg 'x-dead-letter-exchange' for queue '${name}'`);
      }
      return;
    }
    this.#queues.set(name, new MemoryQueue(name, deadLetter, (message, queue, reason) => this.#deadLetter(message, queue, reason)));
  }

  async bindQueue(queue: string, exchange: string, routingKey: string): Promise<void> {
    const target = this.#exchanges.get(exchange);
    if (!target) throw new MemoryBrokerError(404, `no exchange '${exchange}'`);
    if (!this.#queues.has(queue)) throw new MemoryBrokerError(404, `no queue '${queue}'`);
    if (!target.bindings.some((b) => b.queue === queue && b.routingKey === routingKey)) target.bindings.push({ queue, routingKey });
  }

  hasQueue(name: string): boolean {
    return this.#queues.has(name);
  }

  /** Messages ready (not delivered) and delivered but unacked, per queue. */
  queueStats(name: string): { ready: number; unacked: number } | undefined {
    return this.#queues.get(name)?.stats();
  }

  /** Routes one message. Never throws: the outcome says where it went. */
  publish(exchange: string, routingKey: string, content: Buffer, properties: ReceivedProperties): PublishOutcome {
    const queues = this.#route(exchange, routingKey);
    if (queues === undefined) return 'no-exchange';
    if (queues.length === 0) return 'unroutable';
    for (const queue of queues) {
      // Each queue gets its own copy, like a broker writing it to each queue.
      queue.enqueue({ content: Buffer.from(content), properties, exchange, routingKey, redelivered: false });
    }
    return 'routed';
  }

  /** Starts a consumer; throws 404 if the queue does not exist. */
  consume(queue: string, prefetch: number, onDelivery: (delivery: MemoryDelivery) => void): MemoryConsumer {
    const target = this.#queues.get(queue);
    if (!target) throw new MemoryBrokerError(404, `no queue '${queue}'`);
    return target.addConsumer(prefetch, onDelivery);
  }

  #route(exchange: string, routingKey: string): MemoryQueue[] | undefined {
    if (exchange === '') {
      const queue = this.#queues.get(routingKey);
      return queue ? [queue] : [];
    }
    const target = this.#exchanges.get(exchange);
    if (!target) return undefined;
    const names = new Set<string>();
    for (const binding of target.bindings) {
      if (matches(target.type, binding.routingKey, routingKey)) names.add(binding.queue);
    }
    return [...names].map((n) => this.#queues.get(n)).filter((q): q is MemoryQueue => q !== undefined);
  }

  /**
   * Like RabbitMQ: re-publish to the dead-letter exchange with an `x-death` record, or
   * drop. The expiration goes, so a dead-lettered message does not expire again.
   */
  #deadLetter(message: StoredMessage, queue: MemoryQueue, reason: 'rejected' | 'expired'): void {
    const { exchange, routingKey } = queue.deadLetter;
    if (exchange === undefined) return;
    const death = { count: 1, reason, queue: queue.name, exchange: message.exchange, 'routing-keys': [message.routingKey], time: new Date() };
    const previous = Array.isArray(message.properties.headers['x-death']) ? (message.properties.headers['x-death'] as unknown[]) : [];
    const { expiration: _expired, ...kept } = message.properties;
    const properties: ReceivedProperties = {
      ...kept,
      headers: { ...message.properties.headers, 'x-death': [death, ...previous], 'x-first-death-queue': queue.name },
    };
    this.publish(exchange, routingKey ?? message.routingKey, message.content, properties);
  }
}

/** AMQP routing: direct compares keys, fanout ignores them, topic matches `*` and `#`. */
export function matches(type: ExchangeType, pattern: string, routingKey: string): boolean {
  if (type === 'fanout') return true;
  if (type === 'direct') return pattern === routingKey;
  return topicMatches(pattern.split('.'), 0, routingKey.split('.'), 0);
}

function topicMatches(pattern: readonly string[], p: number, words: readonly string[], w: number): boolean {
  if (p === pattern.length) return w === words.length;
  const part = pattern[p];
  if (part === '#') {
    for (let skip = w; skip <= words.length; skip++) if (topicMatches(pattern, p + 1, words, skip)) return true;
    return false;
  }
  if (w === words.length) return false;
  return (part === '*' || part === words[w]) && topicMatches(pattern, p + 1, words, w + 1);
}

/** One consumer of one queue. */
export class MemoryConsumer {
  readonly prefetch: number;
  readonly onDelivery: (delivery: MemoryDelivery) => void;
  readonly #queue: MemoryQueue;
  unacked = 0;
  cancelled = false;
  /** Deliveries not settled yet, returned to the queue when the consumer closes. */
  readonly held = new Set<StoredMessage>();

  constructor(queue: MemoryQueue, prefetch: number, onDelivery: (delivery: MemoryDelivery) => void) {
    this.#queue = queue;
    this.prefetch = prefetch;
    this.onDelivery = onDelivery;
  }

  /** No new deliveries; settling the ones in hand still works. */
  cancel(): void {
    this.cancelled = true;
    this.#queue.removeConsumer(this);
  }

  /** Like a closed channel: what was not settled goes back to the queue, marked redelivered. */
  close(): void {
    this.cancel();
    for (const message of this.held) {
      message.redelivered = true;
      this.#queue.requeue(message);
    }
    this.held.clear();
    this.unacked = 0;
  }
}

class MemoryQueue {
  readonly name: string;
  readonly deadLetter: { readonly exchange: string | undefined; readonly routingKey: string | undefined };
  readonly #ready = new Fifo<StoredMessage>();
  readonly #consumers: MemoryConsumer[] = [];
  readonly #onDeadLetter: (message: StoredMessage, queue: MemoryQueue, reason: 'rejected' | 'expired') => void;
  #next = 0;
  #dispatchScheduled = false;

  constructor(
    name: string,
    deadLetter: { exchange: string | undefined; routingKey: string | undefined },
    onDeadLetter: (message: StoredMessage, queue: MemoryQueue, reason: 'rejected' | 'expired') => void,
  ) {
    this.name = name;
    this.deadLetter = deadLetter;
    this.#onDeadLetter = onDeadLetter;
  }

  stats(): { ready: number; unacked: number } {
    return { ready: this.#ready.length, unacked: this.#consumers.reduce((n, c) => n + c.unacked, 0) };
  }

  enqueue(message: StoredMessage): void {
    this.#ready.push(message);
    const ttl = Number(message.properties.expiration);
    if (message.properties.expiration !== undefined && Number.isFinite(ttl) && ttl >= 0) {
      // Expires only while it waits in the queue, as in RabbitMQ; a consumer holding it keeps it.
      setTimeout(() => {
        if (this.#ready.remove(message)) this.#onDeadLetter(message, this, 'expired');
      }, ttl).unref();
    }
    this.#scheduleDispatch();
  }

  /** Back to the head of the queue, as RabbitMQ does with a requeued message. */
  requeue(message: StoredMessage): void {
    this.#ready.unshift(message);
    this.#scheduleDispatch();
  }

  addConsumer(prefetch: number, onDelivery: (delivery: MemoryDelivery) => void): MemoryConsumer {
    const consumer = new MemoryConsumer(this, prefetch, onDelivery);
    this.#consumers.push(consumer);
    this.#scheduleDispatch();
    return consumer;
  }

  removeConsumer(consumer: MemoryConsumer): void {
    const index = this.#consumers.indexOf(consumer);
    if (index >= 0) this.#consumers.splice(index, 1);
  }

  /** Deliveries never run inside the publish call: like a network hop, they come later. */
  #scheduleDispatch(): void {
    if (this.#dispatchScheduled) return;
    this.#dispatchScheduled = true;
    setImmediate(() => {
      this.#dispatchScheduled = false;
      this.#dispatch();
    });
  }

  #dispatch(): void {
    while (this.#ready.length > 0) {
      const consumer = this.#pickConsumer();
      if (!consumer) return;
      const message = this.#ready.shift() as StoredMessage;
      consumer.unacked += 1;
      consumer.held.add(message);
      let settled = false;
      const settle = (): boolean => {
        if (settled || !consumer.held.has(message)) return false;
        settled = true;
        consumer.held.delete(message);
        consumer.unacked -= 1;
        this.#scheduleDispatch();
        return true;
      };
      consumer.onDelivery({
        message,
        ack: () => void settle(),
        nack: (requeue) => {
          if (!settle()) return;
          if (requeue) {
            message.redelivered = true;
            this.requeue(message);
          } else {
            this.#onDeadLetter(message, this, 'rejected');
          }
        },
      });
    }
  }

  /** Round-robin over consumers with room under their prefetch. */
  #pickConsumer(): MemoryConsumer | undefined {
    for (let i = 0; i < this.#consumers.length; i++) {
      const index = (this.#next + i) % this.#consumers.length;
      const consumer = this.#consumers[index] as MemoryConsumer;
      if (!consumer.cancelled && consumer.unacked < consumer.prefetch) {
        this.#next = index + 1;
        return consumer;
      }
    }
    return undefined;
  }
}
