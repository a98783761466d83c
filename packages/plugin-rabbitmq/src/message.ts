import { randomUUID } from 'node:crypto';

/** Options of one publish. */
export interface PublishOptions {
  /** Default: a random UUID. Consumers see it as `message.id`; use it to deduplicate. */
  readonly messageId?: string;
  readonly headers?: Readonly<Record<string, unknown>>;
  /**
   * Reject the publish when no queue is bound for it, instead of the broker dropping it.
   * Default true: nothing is dropped silently. Pass false for events nobody may listen to.
   */
  readonly mandatory?: boolean;
  /** Written to disk by the broker (delivery mode 2). Default true. */
  readonly persistent?: boolean;
  /** Default `application/json`, or `application/octet-stream` for a Buffer body. */
  readonly contentType?: string;
  readonly correlationId?: string;
  readonly replyTo?: string;
  /** Per-message TTL in ms. */
  readonly expiration?: number;
  readonly priority?: number;
  readonly type?: string;
  /** Overrides PUBLISH_TIMEOUT for this publish (ms). */
  readonly timeout?: number;
}

/** A confirmed publish. */
export interface PublishReceipt {
  readonly messageId: string;
}

/** AMQP basic properties as the plugin sends them. */
export interface WireProperties {
  readonly messageId: string;
  readonly contentType: string;
  /** Seconds since the epoch, as AMQP defines it. */
  readonly timestamp: number;
  readonly headers: Readonly<Record<string, unknown>>;
  readonly persistent: boolean;
  readonly correlationId?: string;
  readonly replyTo?: string;
  readonly expiration?: string;
  readonly priority?: number;
  readonly type?: string;
}

/** Properties of a received message, as far as the sender set them. */
export interface ReceivedProperties {
  readonly messageId?: string;
  readonly contentType?: string;
  readonly timestamp?: number;
  readonly headers: Readonly<Record<string, unknown>>;
  readonly persistent: boolean;
  readonly correlationId?: string;
  readonly replyTo?: string;
  readonly expiration?: string;
  readonly priority?: number;
  readonly type?: string;
}

/** What a subscription handler receives. */
export interface ReceivedMessage<T> {
  /** Message id (the sender's, or `<queue>:<hash>` if it set none): the idempotency key. */
  readonly id: string;
  /** The decoded body: parsed JSON for JSON content types, else the raw Buffer. */
  readonly body: T;
  /** 1 on the first try; counts this plugin's retries after handler failures. */
  readonly attempt: number;
  /** The broker delivered it before without an ack (at-least-once redelivery). */
  readonly redelivered: boolean;
  readonly queue: string;
  readonly exchange: string;
  readonly routingKey: string;
  readonly headers: Readonly<Record<string, unknown>>;
  readonly contentType: string | undefined;
  readonly timestamp: Date | undefined;
  readonly correlationId: string | undefined;
  readonly replyTo: string | undefined;
  readonly type: string | undefined;
  /** The raw body. */
  readonly content: Buffer;
}

/** What a handler gets besides the message. */
export interface HandlerContext {
  /** Aborts when shutdown reaches its deadline while the handler still runs. */
  readonly signal: AbortSignal;
}

/** Resolve to ack; throw to retry (then dead-letter after `maxAttempts`). */
export type MessageHandler<T> = (message: ReceivedMessage<T>, context: HandlerContext) => Promise<void> | void;

/** Header carrying how many handler attempts a message already failed. */
export const ATTEMPTS_HEADER = 'x-attempts';

/** Header of a dead letter that was rejected before its handler ran, saying why. */
export const REJECTED_REASON_HEADER = 'x-plinth-rejected-reason';

/**
 * Why a message was dead-lettered without a handler run: no message id (it could not
 * be deduplicated), not JSON where the subscription validates JSON, a payload its
 * validator refused, or a body the `decode` option threw on.
 */
export type RejectedReason = 'missing-message-id' | 'not-json' | 'invalid-payload' | 'undecodable';

/** Turns a publish call into bytes and properties: JSON unless the body is a Buffer. */
export function encodeMessage(body: unknown, options: PublishOptions, now: number = Date.now()): { content: Buffer; properties: WireProperties } {
  let content: Buffer;
  let contentType: string;
  if (Buffer.isBuffer(body)) {
    content = body;
    contentType = options.contentType ?? 'application/octet-stream';
  } else {
    const json = JSON.stringify(body);
    if (json === undefined) throw new TypeError(`cannot publish ${typeof body}: the body must be JSON-serialisable or a Buffer`);
    content = Buffer.from(json, 'utf8');
    contentType = options.contentType ?? 'application/json';
  }
  return {
    content,
    properties: {
      messageId: options.messageId ?? randomUUID(),
      contentType,
      timestamp: Math.floor(now / 1000),
      headers: { ...options.headers },
      persistent: options.persistent ?? true,
      correlationId: options.correlationId,
      replyTo: options.replyTo,
      expiration: options.expiration === undefined ? undefined : String(options.expiration),
      priority: options.priority,
      type: options.type,
    },
  };
}

/** True for `application/json` and `application/*+json`. */
export function isJsonContentType(contentType: string | undefined): boolean {
  if (!contentType) return false;
  const type = contentType.split(';')[0]?.trim().toLowerCase() ?? '';
  return type === 'application/json' || (type.startsWith('application/') && type.endsWith('+json'));
}

/** The body as the handler sees it. Throws on malformed JSON. */
export function decodeBody(content: Buffer, contentType: string | undefined): unknown {
  return isJsonContentType(contentType) ? JSON.parse(content.toString('utf8')) : content;
}

/** How many attempts a message already failed, from its header. */
export function attemptsSoFar(headers: Readonly<Record<string, unknown>>): number {
  const value = Number(headers[ATTEMPTS_HEADER] ?? 0);
  return Number.isSafeInteger(value) && value > 0 ? value : 0;
}

/** Properties for a copy of a received message (retry or dead letter), with extra headers. */
export function copyProperties(received: ReceivedProperties, fallbackId: string, headers: Record<string, unknown>): WireProperties {
  return {
    messageId: received.messageId ?? fallbackId,
    contentType: received.contentType ?? 'application/octet-stream',
    timestamp: received.timestamp ?? Math.floor(Date.now() / 1000),
    headers: { ...received.headers, ...headers },
    persistent: received.persistent,
    ...(received.correlationId !== undefined ? { correlationId: received.correlationId } : {}),
    ...(received.replyTo !== undefined ? { replyTo: received.replyTo } : {}),
    ...(received.expiration !== undefined ? { expiration: received.expiration } : {}),
    ...(received.priority !== undefined ? { priority: received.priority } : {}),
    ...(received.type !== undefined ? { type: received.type } : {}),
  };
}
