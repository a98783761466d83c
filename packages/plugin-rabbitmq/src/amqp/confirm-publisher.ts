import type { ChannelModel, ConfirmChannel, Message, Options } from 'amqplib';
import { messageOf, type Logger } from '@plinth/core';
import type { OutgoingMessage } from '../driver.js';
import {
  ExchangeNotFoundError,
  PublishAbortedError,
  PublishChannelError,
  PublishNackedError,
  PublishTimeoutError,
  UnroutableError,
  type PublishError,
} from '../errors.js';
import { backoffDelay, type BackoffOptions } from '@plinth/core/lifecycle';
import { Fifo } from '../fifo.js';
import type { RabbitMqStats } from '../stats.js';

/** A publish that has not settled yet. */
interface Pending {
  readonly message: OutgoingMessage;
  readonly resolve: () => void;
  readonly reject: (error: PublishError) => void;
  timer: NodeJS.Timeout | undefined;
  settled: boolean;
  /** How often it was written to a channel (more than once after a lost channel). */
  writes: number;
  /** Set by basic.return: the broker will ack it, but it reached no queue. */
  returned: string | undefined;
}

/** Why the broker closed a channel, from its `error` event. */
interface ChannelClose {
  readonly code: number | undefined;
  readonly message: string;
  /** The close was caused by a basic.publish on that channel. */
  readonly byPublish: boolean;
}

const BASIC_CLASS = 60;
const BASIC_PUBLISH = 40;
const NOT_FOUND = 404;

/**
 * Publishes on one confirm channel, one connection at a time. Every publish resolves
 * when the broker acks it, or rejects: nack, basic.return (mandatory), missing
 * exchange, timeout, stop. A message whose channel died before its confirm is written
 * again on the next channel (so it may arrive twice: at-least-once); while no channel is
 * open, publishes wait in order until PUBLISH_TIMEOUT. Writing pauses when amqplib's
 * buffer is full (until `drain`) and while the broker blocks the connection.
 */
export class ConfirmPublisher {
  readonly #logger: Logger;
  readonly #backoff: BackoffOptions;
  readonly #stats: RabbitMqStats;
  readonly #onExchangeMissing: (exchange: string) => void;
  readonly #outbox = new Fifo<Pending>();
  /** Written, not yet confirmed. */
  readonly #unconfirmed = new Set<Pending>();
  /** The mandatory ones among them by message id, to match basic.return. */
  readonly #mandatoryById = new Map<string, Pending[]>();
  readonly #closeReasons = new WeakMap<ConfirmChannel, ChannelClose>();
  #requeue: Pending[] = [];
  #channel: ConfirmChannel | undefined;
  #model: ChannelModel | undefined;
  #writable = true;
  #blocked = false;
  #stopped = false;
  #open = 0;
  #idleWaiters: (() => void)[] = [];
  #reopenTimer: NodeJS.Timeout | undefined;
  #reopenAttempt = 0;

  constructor(logger: Logger, backoff: BackoffOptions, stats: RabbitMqStats, onExchangeMissing: (exchange: string) => void = () => undefined) {
    this.#logger = logger;
    this.#backoff = backoff;
    this.#stats = stats;
    this.#onExchangeMissing = onExchangeMissing;
  }

  /** An open confirm channel is attached. */
  get ready(): boolean {
    return this.#channel !== undefined;
  }

  /** Publishes not settled yet. */
  get outstanding(): number {
    return this.#open;
  }

  publish(message: OutgoingMessage): Promise<void> {
    if (this.#stopped) {
      return Promise.reject(new PublishAbortedError(message.exchange, message.routingKey, message.properties.messageId, 'the plugin has stopped'));
    }
    return new Promise<void>((resolve, reject) => {
      const pending: Pending = { message, resolve, reject, timer: undefined, settled: false, writes: 0, returned: undefined };
      pending.timer = setTimeout(() => this.#timeOut(pending), message.timeoutMs);
      this.#open += 1;
      this.#outbox.push(pending);
      this.#pump();
    });
  }

  /** Opens a confirm channel on `model` and sends what waited. Throws if it cannot. */
  async attach(model: ChannelModel): Promise<void> {
    this.#model = model;
    clearTimeout(this.#reopenTimer);
    this.#reopenTimer = undefined;
    const channel = await model.createConfirmChannel();
    channel.on('error', (error: Error & { code?: number; classId?: number; methodId?: number }) => {
      const close: ChannelClose = {
        code: error.code,
        message: error.message,
        byPublish: error.classId === BASIC_CLASS && error.methodId === BASIC_PUBLISH,
      };
      this.#closeReasons.set(channel, close);
      const log = close.byPublish && close.code === NOT_FOUND ? 'debug' : 'warn';
      this.#logger[log]({ err: error.message }, 'publish channel closed by the broker');
    });
    // amqplib fails every unconfirmed callback in its own 'close' listener, registered
    // before this one; those callbacks collect the messages to send again.
    channel.on('close', () => this.#onClose(channel, model));
    channel.on('return', (returned: Message) => this.#onReturn(returned));
    channel.on('drain', () => {
      this.#writable = true;
      this.#pump();
    });
    if (this.#stopped || this.#model !== model) {
      await channel.close().catch(() => undefined);
      return;
    }
    this.#channel = channel;
    this.#writable = true;
    this.#reopenAttempt = 0;
    this.#pump();
  }

  /** The connection is gone: forget its channel; waiting publishes go out on the next one. */
  detach(model?: ChannelModel): void {
    if (model !== undefined && this.#model !== model) return;
    clearTimeout(this.#reopenTimer);
    this.#reopenTimer = undefined;
    this.#model = undefined;
    this.#channel = undefined;
    this.#blocked = false;
  }

  /** The broker blocked (low memory or disk) or unblocked the connection. */
  setBlocked(blocked: boolean): void {
    this.#blocked = blocked;
    if (!blocked) this.#pump();
  }

  /** Resolves once every publish has settled, or when `signal` aborts. */
  settle(signal: AbortSignal): Promise<void> {
    if (this.#open === 0 || signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        signal.removeEventListener('abort', done);
        resolve();
      };
      this.#idleWaiters.push(done);
      signal.addEventListener('abort', done, { once: true });
    });
  }

  /** Rejects what is still pending and closes the channel. */
  async close(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#reopenTimer);
    for (const pending of this.#allPending()) {
      this.#settle(pending, new PublishAbortedError(pending.message.exchange, pending.message.routingKey, pending.message.properties.messageId, 'the plugin stopped before the broker confirmed it'));
    }
    const channel = this.#channel;
    this.#channel = undefined;
    this.#model = undefined;
    if (channel) await channel.close().catch(() => undefined);
  }

  #pump(): void {
    const channel = this.#channel;
    if (!channel) return;
    while (this.#writable && !this.#blocked && this.#channel === channel) {
      const pending = this.#outbox.shift();
      if (pending === undefined) return;
      if (pending.settled) continue;
      this.#write(channel, pending);
    }
  }

  #write(channel: ConfirmChannel, pending: Pending): void {
    const { exchange, routingKey, content, properties, mandatory } = pending.message;
    const options: Options.Publish = {
      messageId: properties.messageId,
      contentType: properties.contentType,
      timestamp: properties.timestamp,
      headers: properties.headers,
      persistent: properties.persistent,
      mandatory,
      // amqplib leaves undefined fields out of the frame.
      correlationId: properties.correlationId,
      replyTo: properties.replyTo,
      expiration: properties.expiration,
      priority: properties.priority,
      type: properties.type,
    };
    let accepted: boolean;
    try {
      accepted = channel.publish(exchange, routingKey, content, options, (error: Error | null) => this.#onConfirm(channel, pending, error));
    } catch {
      // The channel is closing: no confirm callback was registered. Send it on the next one.
      this.#outbox.unshift(pending);
      if (this.#channel === channel) this.#channel = undefined;
      return;
    }
    if (pending.writes > 0) this.#stats.resent += 1;
    pending.writes += 1;
    pending.returned = undefined;
    this.#track(pending);
    if (!accepted) this.#writable = false;
  }

  #onConfirm(channel: ConfirmChannel, pending: Pending, error: Error | null): void {
    this.#untrack(pending);
    if (pending.settled) return;
    const { exchange, routingKey, properties } = pending.message;
    if (error === null) {
      if (pending.returned !== undefined) this.#settle(pending, new UnroutableError(exchange, routingKey, properties.messageId, pending.returned));
      else this.#settle(pending);
      return;
    }
    if (error.message === 'message nacked') {
      this.#settle(pending, new PublishNackedError(exchange, routingKey, properties.messageId));
      return;
    }
    // The channel closed before the confirm arrived.
    const close = this.#closeReasons.get(channel);
    if (close?.byPublish) {
      const missing = close.code === NOT_FOUND ? /no exchange '(.*)' in vhost/.exec(close.message)?.[1] : undefined;
      if (missing === exchange) {
        this.#onExchangeMissing(exchange);
        this.#settle(pending, new ExchangeNotFoundError(exchange, routingKey, properties.messageId));
        return;
      }
      if (missing === undefined) {
        // A publish broke the channel and the broker did not say which: refuse every
        // message that was on it rather than send the culprit again and again.
        this.#settle(pending, new PublishChannelError(exchange, routingKey, properties.messageId, close.message));
        return;
      }
    }
    if (this.#stopped) {
      this.#settle(pending, new PublishAbortedError(exchange, routingKey, properties.messageId, 'the plugin stopped before the broker confirmed it'));
      return;
    }
    this.#requeue.push(pending);
  }

  #onClose(channel: ConfirmChannel, model: ChannelModel): void {
    // Messages that lost their channel go first, in their original order.
    const again = this.#requeue;
    this.#requeue = [];
    for (let i = again.length - 1; i >= 0; i--) this.#outbox.unshift(again[i] as Pending);
    if (this.#channel === channel) this.#channel = undefined;
    this.#scheduleReopen(model);
  }

  /** The channel died but the connection lives (e.g. a 404 on publish): open a new one. */
  #scheduleReopen(model: ChannelModel): void {
    if (this.#stopped || this.#model !== model || this.#channel !== undefined || this.#reopenTimer !== undefined) return;
    this.#reopenAttempt += 1;
    this.#reopenTimer = setTimeout(() => {
      this.#reopenTimer = undefined;
      if (this.#stopped || this.#model !== model) return;
      this.attach(model).catch((error: unknown) => {
        this.#logger.warn({ err: messageOf(error), attempt: this.#reopenAttempt }, 'could not reopen the publish channel; retrying');
        this.#scheduleReopen(model);
      });
    }, backoffDelay(this.#backoff, this.#reopenAttempt));
  }

  #onReturn(returned: Message): void {
    const id = String(returned.properties.messageId ?? '');
    const candidates = this.#mandatoryById.get(id);
    const pending = candidates?.find((p) => p.returned === undefined);
    const fields = returned.fields as Message['fields'] & { replyCode?: number; replyText?: string };
    if (pending) pending.returned = `${fields.replyCode ?? 312} ${fields.replyText ?? 'NO_ROUTE'}`;
  }

  #timeOut(pending: Pending): void {
    if (pending.settled) return;
    const { exchange, routingKey, properties } = pending.message;
    const state =
      pending.writes === 0
        ? this.#blocked
          ? 'never sent: the broker blocked the connection'
          : this.#channel
            ? 'never sent: waiting for buffer space'
            : 'never sent: not connected to the broker'
        : this.#channel
          ? 'sent, no confirm yet'
          : 'sent, then the connection was lost';
    this.#settle(pending, new PublishTimeoutError(exchange, routingKey, properties.messageId, pending.message.timeoutMs, state));
  }

  #settle(pending: Pending, error?: PublishError): void {
    if (pending.settled) return;
    pending.settled = true;
    clearTimeout(pending.timer);
    this.#open -= 1;
    if (error) pending.reject(error);
    else pending.resolve();
    if (this.#open === 0) {
      const waiters = this.#idleWaiters;
      this.#idleWaiters = [];
      for (const waiter of waiters) waiter();
    }
  }

  #track(pending: Pending): void {
    this.#unconfirmed.add(pending);
    // Only a mandatory message can come back with basic.return.
    if (!pending.message.mandatory) return;
    const id = pending.message.properties.messageId;
    const list = this.#mandatoryById.get(id);
    if (list) list.push(pending);
    else this.#mandatoryById.set(id, [pending]);
  }

  #untrack(pending: Pending): void {
    this.#unconfirmed.delete(pending);
    if (!pending.message.mandatory) return;
    const id = pending.message.properties.messageId;
    const list = this.#mandatoryById.get(id);
    if (!list) return;
    const index = list.indexOf(pending);
    if (index >= 0) list.splice(index, 1);
    if (list.length === 0) this.#mandatoryById.delete(id);
  }

  *#allPending(): Iterable<Pending> {
    yield* this.#outbox.drain();
    yield* this.#requeue.splice(0);
    yield* [...this.#unconfirmed];
  }
}
