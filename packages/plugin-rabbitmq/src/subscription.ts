import { performance } from 'node:perf_hooks';
import { createHash } from 'node:crypto';
import { PluginUnavailableError, type Logger } from '@plinth/core';
import { Backoff, sleep } from '@plinth/core/lifecycle';
import type { BrokerDriver, ConsumerHandle, Delivery, OutgoingMessage } from './driver.js';
import type { RabbitMqStats } from './stats.js';
import {
  ATTEMPTS_HEADER,
  attemptsSoFar,
  copyProperties,
  decodeBody,
  isJsonContentType,
  REJECTED_REASON_HEADER,
  type MessageHandler,
  type ReceivedMessage,
  type RejectedReason,
} from './message.js';

/** Options of one subscription. */
export interface SubscribeOptions<T> {
  /** Messages handled at once (unacked at the broker). Default: the PREFETCH setting. */
  readonly prefetch?: number;
  /** Handler attempts before the message is dead-lettered. Default 5. */
  readonly maxAttempts?: number;
  /**
   * Checks the payload before the handler sees it: `(payload) => payload is T`. A
   * subscription with a validator takes JSON only: a message that is not JSON (another
   * content type, bytes that do not parse) or that fails the check is dead-lettered at
   * once, with the reason in its `x-plinth-rejected-reason` header.
   */
  readonly validate?: (payload: unknown) => payload is T;
  /**
   * Validates and types the decoded body (e.g. a zod schema's `parse`). A throw means
   * the message can never be handled: it is dead-lettered at once, without retries.
   */
  readonly decode?: (body: unknown) => T;
  /** Wait before the first retry, in ms; doubles per attempt (default 1000). */
  readonly retryDelay?: number;
  /** Cap of the wait between retries, in ms (default 60 000). */
  readonly maxRetryDelay?: number;
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
  /** The queue's delay queue (`<queue>.retry`), when the topology declares it. */
  readonly retryQueue: string | undefined;
  readonly publishTimeoutMs: number;
  readonly deadLetterExchange: string;
  readonly prefetch: number;
  readonly logger: Logger;
  readonly stats: RabbitMqStats;
  /** How long a handler took (seconds) and whether it succeeded. */
  readonly handled: (queue: string, seconds: number, ok: boolean) => void;
  /** Called once the subscription is cancelled by its owner. */
  readonly onCancelled: (subscription: SubscriptionRunner<unknown>) => void;
  /** Hands a handler failure to the app's error channel (error trackers). */
  readonly reportError: (error: unknown, details: { queue: string; messageId: string; attempt: number; deadLettered: boolean }) => void;
}

const DEFAULT_MAX_ATTEMPTS = 5;
const DEFAULT_RETRY_DELAY_MS = 1000;
const DEFAULT_MAX_RETRY_DELAY_MS = 60_000;
/** Pauses of a consumer whose handler reported a dependency unavailable: 500 ms, doubling, up to 10 s. */
const PAUSE_BACKOFF = { initialDelayMs: 500, maxDelayMs: 10_000 } as const;
/** How long a message that could not be re-published is held before going back to the queue. */
const HOLD_BEFORE_REQUEUE_MS = 1000;
const MAX_ERROR_HEADER = 1000;

/**
 * Runs a handler for each delivery of one queue. Success acks. Failure re-publishes a
 * copy with `x-attempts` raised (confirmed first, then the original is acked) to the
 * queue's delay queue, whose per-message TTL dead-letters it back to the queue after a
 * growing wait; after `maxAttempts` the copy goes to the dead-letter exchange instead. A
 * handler that throws `PluginUnavailableError` costs no attempt: the message goes back
 * and the consumer pauses (no deliveries) with backoff until a try succeeds. A message
 * that cannot be re-published goes back to the queue unchanged: the plugin never drops one.
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
  readonly #pauseBackoff = new Backoff(PAUSE_BACKOFF);
  #resolveReady!: () => void;
  #driver: BrokerDriver | undefined;
  #handle: ConsumerHandle | undefined;
  #cancelled = false;
  /** Set while the consumer is paused: resolves once its consumer is cancelled. */
  #paused: Promise<void> | undefined;

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

  /** True while a dependency the handler needs is unavailable and deliveries are stopped. */
  get paused(): boolean {
    return this.#paused !== undefined;
  }

  start(driver: BrokerDriver): void {
    if (this.#handle || this.#cancelled) return;
    this.#driver = driver;
    this.#consume(driver);
  }

  #consume(driver: BrokerDriver): void {
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
    if (this.#paused) {
      // Sent before the broker saw the cancel: hand it back once no consumer can take it again.
      void this.#paused.then(() => {
        this.#deps.stats.requeued += 1;
        delivery.nack(true);
      });
      return;
    }
    if (this.#cancelled) {
      // Arrived while the consumer was being cancelled: leave it for the next consumer.
      this.#deps.stats.requeued += 1;
      delivery.nack(true);
      return;
    }
    this.#deps.stats.delivered += 1;
    const work = this.#process(delivery).catch((error: unknown) => {
      this.#deps.logger.error({ err: error }, 'unexpected error settling a message; it returns to the queue');
      this.#deps.stats.requeued += 1;
      delivery.nack(true);
    });
    this.#inFlight.add(work);
    void work.finally(() => this.#inFlight.delete(work));
  }

  async #process(delivery: Delivery): Promise<void> {
    const sentId = delivery.properties.messageId;
    const id = sentId ?? fallbackId(this.queue, delivery.content);
    const attempt = attemptsSoFar(delivery.properties.headers) + 1;
    if (sentId === undefined || sentId === '') {
      await this.#reject(delivery, id, attempt, 'missing-message-id', new Error('the message has no message id, so it cannot be deduplicated'));
      return;
    }
    let message: ReceivedMessage<T>;
    try {
      message = this.#message(delivery, id, attempt);
    } catch (error) {
      const reason = error instanceof RejectedMessage ? error.reason : 'undecodable';
      await this.#reject(delivery, id, attempt, reason, error);
      return;
    }
    const started = performance.now();
    try {
      await this.#handler(message, { signal: this.#handlerAbort.signal });
      this.#deps.handled(this.queue, (performance.now() - started) / 1000, true);
    } catch (error) {
      this.#deps.handled(this.queue, (performance.now() - started) / 1000, false);
      if (this.#handlerAbort.signal.aborted) {
        // Shutdown cut it short: not the message's fault, so no attempt is counted.
        this.#deps.stats.requeued += 1;
        delivery.nack(true);
        return;
      }
      if (PluginUnavailableError.is(error)) {
        // Retrying cannot help until the dependency is back: stop taking messages instead.
        await this.#pause(error);
        this.#deps.stats.requeued += 1;
        delivery.nack(true);
        return;
      }
      this.#deps.reportError(error, { queue: this.queue, messageId: id, attempt, deadLettered: attempt >= this.#maxAttempts });
      if (attempt < this.#maxAttempts) {
        const delay = this.#retryDelay(attempt);
        this.#deps.logger.warn({ messageId: id, attempt, maxAttempts: this.#maxAttempts, delayMs: delay, err: error }, 'handler failed; retrying');
        const retryQueue = this.#deps.retryQueue;
        if (retryQueue === undefined) {
          await this.#republish(delivery, id, '', this.queue, { [ATTEMPTS_HEADER]: attempt }, 'retried');
        } else {
          await this.#republish(delivery, id, '', retryQueue, { [ATTEMPTS_HEADER]: attempt }, 'retried', String(delay));
        }
      } else {
        this.#deps.logger.error({ messageId: id, attempt, err: error }, `handler failed ${attempt} times; dead-lettering`);
        await this.#deadLetter(delivery, id, attempt, error);
      }
      return;
    }
    delivery.ack();
    this.#deps.stats.handled += 1;
    this.#pauseBackoff.reset();
  }

  /** `retryDelay · 2^(attempt-1)`, capped at `maxRetryDelay`. */
  #retryDelay(attempt: number): number {
    const first = this.#options.retryDelay ?? DEFAULT_RETRY_DELAY_MS;
    const cap = this.#options.maxRetryDelay ?? DEFAULT_MAX_RETRY_DELAY_MS;
    return Math.max(1, Math.min(cap, first * 2 ** (attempt - 1)));
  }

  /**
   * Cancels the consumer (so requeued messages are not handed straight back), waits with
   * growing pauses, then consumes again: the next delivery is the test. Concurrent
   * failures share one pause. Resolves once the consumer is cancelled.
   */
  #pause(error: unknown): Promise<void> {
    if (this.#paused) return this.#paused;
    const handle = this.#handle;
    const delay = this.#pauseBackoff.next();
    this.#deps.stats.paused += 1;
    this.#deps.logger.warn({ delayMs: delay, err: error }, 'handler needs a dependency that is unavailable; consumer paused, its messages go back to the queue');
    const cancelled = (handle ? handle.cancel() : Promise.resolve()).catch(() => undefined);
    this.#paused = cancelled;
    void (async () => {
      await cancelled;
      await sleep(delay, this.#draining.signal).catch(() => undefined);
      // Messages held by other handlers are settled (or handed back) before the channel goes.
      while (this.#inFlight.size > 0 && !this.#draining.signal.aborted) await Promise.allSettled([...this.#inFlight]);
      if (this.#cancelled || !this.#driver) return;
      await handle?.close().catch(() => undefined);
      this.#paused = undefined;
      if (!this.#cancelled) {
        this.#deps.logger.info('consumer resumes after a pause');
        this.#consume(this.#driver);
      }
    })();
    return cancelled;
  }

  #reject(delivery: Delivery, id: string, attempt: number, reason: RejectedReason, error: unknown): Promise<void> {
    this.#deps.logger.error({ messageId: id, reason, err: error }, `message rejected (${reason}); dead-lettering it without retries`);
    return this.#deadLetter(delivery, id, attempt, error, { [REJECTED_REASON_HEADER]: reason });
  }

  #message(delivery: Delivery, id: string, attempt: number): ReceivedMessage<T> {
    const { properties } = delivery;
    const validate = this.#options.validate;
    if (validate && !isJsonContentType(properties.contentType)) {
      throw new RejectedMessage('not-json', `content type ${properties.contentType ?? '(none)'} is not JSON`);
    }
    let raw: unknown;
    try {
      raw = decodeBody(delivery.content, properties.contentType);
    } catch (error) {
      throw new RejectedMessage('not-json', `the body is not valid JSON (${error instanceof Error ? `${error.name}: ${error.message}` : String(error)})`);
    }
    if (validate && !validate(raw)) throw new RejectedMessage('invalid-payload', 'the payload failed the subscription\'s validator');
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

  #deadLetter(delivery: Delivery, id: string, attempt: number, error: unknown, extra: Record<string, unknown> = {}): Promise<void> {
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
        ...extra,
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
    expiration?: string,
  ): Promise<void> {
    const properties = copyProperties(delivery.properties, id, headers);
    try {
      await this.#deps.publish({
        exchange,
        routingKey,
        content: delivery.content,
        properties: expiration === undefined ? properties : { ...properties, expiration },
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

/** Why a message can never be handled, found before the handler ran. */
class RejectedMessage extends Error {
  constructor(
    readonly reason: RejectedReason,
    message: string,
  ) {
    super(message);
    this.name = 'RejectedMessage';
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
