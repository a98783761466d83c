import { PlinthError } from '@plinth/core';

/** Why a publish was not confirmed. */
export type PublishFailureReason = 'nacked' | 'unroutable' | 'exchange-not-found' | 'timeout' | 'stopped' | 'channel-error';

/**
 * A publish the broker did not confirm. The message id says which message; `reason`
 * says what happened. Every publish either resolves (confirmed) or rejects with this.
 */
export class PublishError extends PlinthError {
  static override readonly brand: symbol = Symbol.for('plinth.error.PublishError');
  override readonly name: string = 'PublishError';
  constructor(
    readonly reason: PublishFailureReason,
    readonly exchange: string,
    readonly routingKey: string,
    readonly messageId: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The broker answered with basic.nack: it could not take responsibility for the message. */
export class PublishNackedError extends PublishError {
  static override readonly brand: symbol = Symbol.for('plinth.error.PublishNackedError');
  override readonly name = 'PublishNackedError';
  constructor(exchange: string, routingKey: string, messageId: string) {
    super('nacked', exchange, routingKey, messageId, `broker nacked message ${messageId} to ${describeTarget(exchange, routingKey)}`);
  }
}

/** A `mandatory` publish matched no queue and came back (basic.return). */
export class UnroutableError extends PublishError {
  static override readonly brand: symbol = Symbol.for('plinth.error.UnroutableError');
  override readonly name = 'UnroutableError';
  constructor(exchange: string, routingKey: string, messageId: string, detail: string) {
    super(
      'unroutable',
      exchange,
      routingKey,
      messageId,
      `message ${messageId} to ${describeTarget(exchange, routingKey)} is unroutable (${detail}): no queue is bound for it`,
    );
  }
}

/** The exchange does not exist (the broker closed the channel with 404). */
export class ExchangeNotFoundError extends PublishError {
  static override readonly brand: symbol = Symbol.for('plinth.error.ExchangeNotFoundError');
  override readonly name = 'ExchangeNotFoundError';
  constructor(exchange: string, routingKey: string, messageId: string) {
    super(
      'exchange-not-found',
      exchange,
      routingKey,
      messageId,
      `exchange "${exchange}" does not exist (404): message ${messageId} was not published; declare it in the topology`,
    );
  }
}

/** No confirm arrived within PUBLISH_TIMEOUT (broker unreachable, blocked, or slow). */
export class PublishTimeoutError extends PublishError {
  static override readonly brand: symbol = Symbol.for('plinth.error.PublishTimeoutError');
  override readonly name = 'PublishTimeoutError';
  constructor(exchange: string, routingKey: string, messageId: string, timeoutMs: number, state: string) {
    super(
      'timeout',
      exchange,
      routingKey,
      messageId,
      `message ${messageId} to ${describeTarget(exchange, routingKey)} was not confirmed within ${timeoutMs} ms (${state}); ` +
        'it may or may not have reached the broker',
    );
  }
}

/** The plugin stopped before the broker confirmed the message. */
export class PublishAbortedError extends PublishError {
  static override readonly brand: symbol = Symbol.for('plinth.error.PublishAbortedError');
  override readonly name = 'PublishAbortedError';
  constructor(exchange: string, routingKey: string, messageId: string, why: string) {
    super('stopped', exchange, routingKey, messageId, `message ${messageId} to ${describeTarget(exchange, routingKey)} was not confirmed: ${why}`);
  }
}

/** The broker closed the channel for a reason that concerns this publish (other than 404). */
export class PublishChannelError extends PublishError {
  static override readonly brand: symbol = Symbol.for('plinth.error.PublishChannelError');
  override readonly name = 'PublishChannelError';
  constructor(exchange: string, routingKey: string, messageId: string, detail: string) {
    super('channel-error', exchange, routingKey, messageId, `message ${messageId} to ${describeTarget(exchange, routingKey)} was refused: ${detail}`);
  }
}

/** A topology or options mistake found before any I/O. */
export class RabbitMqConfigError extends PlinthError {
  static override readonly brand: symbol = Symbol.for('plinth.error.RabbitMqConfigError');
  override readonly name = 'RabbitMqConfigError';
}

function describeTarget(exchange: string, routingKey: string): string {
  return `${exchange === '' ? 'the default exchange' : `exchange "${exchange}"`} with routing key "${routingKey}"`;
}
