import { createHash } from 'node:crypto';
import type { Logger } from '@plinth/core';
import { sleep } from '@plinth/core/lifecycle';
import type { BrokerDriver, ConsumerHandle, Delivery, OutgoingMessage } from './driver.js';
import type { RabbitMqStats } from './stats.js';
import { ATTEMPTS_HEADER, attemptsSoFar, copyProperties, decodeBody, type MessageHandler, type ReceivedMessage } from './message.js';

/** Options of one subscription. */
export interface SubscribeOptions<T> {
  /** Messages handled at once (unacked at the broker). Default: the PREFETCH setting. */
  readonly prefetch?: number;
  /** Handler attempts before the message is dead-lettered. Default 5. */
  readonly maxAttempts?: number;
  /**
   * Validates and types the decoded body (e.g. a zod schema's `parse`). A throw means
   * the message can never be handled: it is dead-lettered at once, without retries.
   */
  readonly decode?: (body: unknown) => T;
  /** Where failed messages go (routing key: the queue name). Default: the topology's dead-letter exchange. */
  readonly deadLetterExchange?: string;
}

/** A running (or registered) subscription. */
export interface Subscription {
  readonly queue: string;
  /** Resolves once the broker accepted the consumer. */
  readonly ready: Promise<void>;
  /**
   * Stops new deliveries, waits for handlers in flight to finish and settle, releases the
   * channel. When `signal` aborts first (pass a hook's `ctx.signal`), handlers get their
   * abort signal and what they hold returns to the queue.
   */
  cancel(options?: { signal?: AbortSignal }): Promise<void>;
}

export interface SubscriptionDeps {
  readonly publish: (message: OutgoingMessage) => Promise<void>;
  readonly publishTimeoutMs: number;
  readonly deadLetterExchange: string;
  readonly prefetch: number;
  readonly logger: Logger;
  readonly stats: RabbitMqStats;
  /** Called once the subscription is cancelled by its owner. */
  readonly onCancelled: (subscription: SubscriptionRunner<unknown>) => void;
}

const DEFAULT_MAX_ATTEMPTS = 5;
/** How long a message that could not be re-published is held before going back to the queue. */
const HOLD_BEFORE_REQUEUE_MS = 1000;
const MAX_ERROR_HEADER = 1000;

/**
 * Runs a handler for each delivery of one queue. Success acks. Failure re-publishes a
 * copy to the same queue with `x-attempts` raised (confirmed first, then the original is
 * acked), so each retry is counted and goes to the back of the queue; after
 * `maxAttempts` the copy goes to the dead-letter exchange instead. A message that cannot
 * be re-published goes back to the queue unchanged: the plugin never drops one.
 */
export class SubscriptionRunner<T> implements Subscription {
  readonly queue: string;
  readonly ready: Promise<void>;
  readonly #handler: MessageHandler<T>;
  readonly #options: SubscribeOptions<T>;
  readonly #deps: SubscriptionDeps;
  readonly #maxAttempts: number;
  readonly #inFlight = new Set<Promise<void>>();
  /** Aborts handlers: only when shutdown reaches its deadline. */
  readonly #handlerAbort = new AbortController();
  /** Aborts waits of our own (holds) as soon as draining begins. */
  readonly #draining = new AbortController();
  #resolveReady!: () => void;
  #handle: ConsumerHandle | undefined;
  #cancelled = false;

  constructor(queue: string, handler: MessageHandler<T>, options: SubscribeOptions<T>, deps: SubscriptionDeps) {
    this.queue = queue;
    this.#handler = handler;
    this.#options = options;
    this.#deps = deps;
    this.#maxAttempts = options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
    this.ready = new Promise((resolve) => {
      this.#resolveReady = resolve;
    });
  }

  /** Handlers running right now. */
  get inFlight(): number {
    return this.#inFlight.size;
  }

  get started(): boolean {
    return this.#handle !== undefined;
  }

  start(driver: BrokerDriver): void {
    if (this.#handle || this.#cancelled) return;
    this.#handle = driver.consume(this.queue, this.#options.prefetch ?? this.#deps.prefetch, (delivery) => this.#onDelivery(delivery));
    this.#handle.ready.then(this.#resolveReady, () => undefined);
  }

  /**
   * Stops deliveries and waits for handlers in flight to settle their messages. When
   * `signal` aborts first, handlers get their abort signal and what they hold goes back
   * to the queue when the channel closes.
   */
  async drain(signal: AbortSignal): Promise<void> {
    this.#cancelled = true;
    this.#draining.abort();
    if (this.#handle) await untilAborted(this.#handle.cancel(), signal);
    while (this.#inFlight.size > 0 && !signal.aborted) await untilAborted(Promise.allSettled([...this.#inFlight]), signal);
    if (this.#inFlight.size > 0) {
      this.#deps.logger.warn({ inFlight: this.#inFlight.size }, 'stop deadline reached: aborting handlers; their messages return to the queue');
      this.#handlerAbort.abort(signal.reason);
    }
  }

  /** Releases the channel; anything unsettled returns to the queue. */
  async close(): Promise<void> {
    this.#cancelled = true;
    await this.#handle?.close();
  }

  async cancel(options: { signal?: AbortSignal } = {}): Promise<void> {
    await this.drain(options.signal ?? new AbortController().signal);
    await this.close();
    this.#deps.onCancelled(this as SubscriptionRunner<unknown>);
  }

  #onDelivery(delivery: Delivery): void {
    if (this.#cancelled) {
      // Arrived while the consumer was being cancelled: leave it for the next consumer.
      this.#deps.stats.requeued += 1;
      delivery.nack(true);
      return;
    }
    const work = this.#process(delivery).catch((error: unknown) => {
      this.#deps.logger.error({ err: error }, 'unexpected error settling a message; it returns to the queue');
      this.#deps.stats.requeued += 1;
      delivery.nack(true);
    });
    this.#inFlight.add(work);
    void work.finally(() => this.#inFlight.delete(work));
  }

  async #process(delivery: Delivery): Promise<void> {
    const id = delivery.properties.messageId ?? fallbackId(this.queue, delivery.content);
    const attempt = attemptsSoFar(delivery.properties.headers) + 1;
    let message: ReceivedMessage<T>;
    try {
      message = this.#message(delivery, id, attempt);
    } catch (error) {
      this.#deps.logger.error({ messageId: id, err: error }, 'message cannot be decoded; dead-lettering it without retries');
      await this.#deadLetter(delivery, id, attempt, error);
      return;
    }
    try {
      await this.#handler(message, { signal: this.#handlerAbort.signal });
    } catch (error) {
      if (this.#handlerAbort.signal.aborted) {
        // Shutdown cut it short: not the message's fault, so no attempt is counted.
        this.#deps.stats.requeued += 1;
        delivery.nack(true);
        return;
      }
      if (attempt < this.#maxAttempts) {
        this.#deps.logger.warn({ messageId: id, attempt, maxAttempts: this.#maxAttempts, err: error }, 'handler failed; retrying');
        await this.#republish(delivery, id, '', this.queue, { [ATTEMPTS_HEADER]: attempt }, 'retried');
      } else {
        this.#deps.logger.error({ messageId: id, attempt, err: error }, `handler failed ${attempt} times; dead-lettering`);
        await this.#deadLetter(delivery, id, attempt, error);
      }
      return;
    }
    delivery.ack();
    this.#deps.stats.handled += 1;
  }

  #message(delivery: Delivery, id: string, attempt: number): ReceivedMessage<T> {
    const { properties } = delivery;
    const raw = decodeBody(delivery.content, properties.contentType);
    const body = this.#options.decode ? this.#options.decode(raw) : (raw as T);
    return {
      id,
      body,
      attempt,
      redelivered: delivery.redelivered,
      queue: this.queue,
      exchange: delivery.exchange,
      routingKey: delivery.routingKey,
      headers: properties.headers,
      contentType: properties.contentType,
      timestamp: properties.timestamp !== undefined ? new Date(properties.timestamp * 1000) : undefined,
      correlationId: properties.correlationId,
      replyTo: properties.replyTo,
      type: properties.type,
      content: delivery.content,
    };
  }

  #deadLetter(delivery: Delivery, id: string, attempt: number, error: unknown): Promise<void> {
    const exchange = this.#options.deadLetterExchange ?? this.#deps.deadLetterExchange;
    const reason = (error instanceof Error ? `${error.name}: ${error.message}` : String(error)).slice(0, MAX_ERROR_HEADER);
    return this.#republish(
      delivery,
      id,
      exchange,
      this.queue,
      {
        [ATTEMPTS_HEADER]: attempt,
        'x-error': reason,
        'x-original-queue': this.queue,
        'x-original-exchange': delivery.exchange,
        'x-original-routing-key': delivery.routingKey,
      },
      'deadLettered',
    );
  }

  /** Confirmed copy first, ack after: a crash in between duplicates, never loses. */
  async #republish(
    delivery: Delivery,
    id: string,
    exchange: string,
    routingKey: string,
    headers: Record<string, unknown>,
    what: 'retried' | 'deadLettered',
  ): Promise<void> {
    try {
      await this.#deps.publish({
        exchange,
        routingKey,
        content: delivery.content,
        properties: copyProperties(delivery.properties, id, headers),
        mandatory: true,
        timeoutMs: this.#deps.publishTimeoutMs,
      });
    } catch (error) {
      const step = what === 'retried' ? 'retry' : 'dead-letter';
      this.#deps.logger.error({ messageId: id, err: error }, `${step} publish failed; the message returns to the queue unchanged`);
      await sleep(HOLD_BEFORE_REQUEUE_MS, this.#draining.signal).catch(() => undefined);
      this.#deps.stats.requeued += 1;
      delivery.nack(true);
      return;
    }
    delivery.ack();
    this.#deps.stats[what] += 1;
  }
}

/** A stable id for messages sent without one, so redeliveries can still be recognised. */
function fallbackId(queue: string, content: Buffer): string {
  return `${queue}:${createHash('sha256').update(content).digest('hex').slice(0, 32)}`;
}

/** Waits for `promise`, but no longer than until `signal` aborts. Never rejects. */
function untilAborted(promise: Promise<unknown>, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      signal.removeEventListener('abort', done);
      resolve();
    };
    signal.addEventListener('abort', done, { once: true });
    promise.then(done, done);
  });
}
