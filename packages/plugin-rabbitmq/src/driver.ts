import type { ReceivedProperties, WireProperties } from './message.js';

/** One message on its way to the broker. */
export interface OutgoingMessage {
  readonly exchange: string;
  readonly routingKey: string;
  readonly content: Buffer;
  readonly properties: WireProperties;
  readonly mandatory: boolean;
  /** Reject unless confirmed within this many ms. */
  readonly timeoutMs: number;
}

/** One message handed to a consumer; exactly one of ack/nack settles it. */
export interface Delivery {
  readonly content: Buffer;
  readonly properties: ReceivedProperties;
  readonly exchange: string;
  readonly routingKey: string;
  readonly redelivered: boolean;
  /** Settles the message. A no-op if its channel is gone (the broker then redelivers it). */
  ack(): void;
  /** `requeue: false` dead-letters (or drops) it at the broker. */
  nack(requeue: boolean): void;
}

/** A consumer that survives reconnects until cancelled. */
export interface ConsumerHandle {
  /** Resolves once the broker first accepted the consumer. */
  readonly ready: Promise<void>;
  /** Whether deliveries can flow right now. */
  readonly active: boolean;
  /** Stops deliveries; unsettled ones can still be acked. */
  cancel(): Promise<void>;
  /** Releases its channel; unacked deliveries return to the queue. */
  close(): Promise<void>;
}

/** What the plugin needs of a broker: RabbitMQ over amqplib, or the in-process broker. */
export interface BrokerDriver {
  /** For logs and errors: `127.0.0.1:5672` or `in-process broker`. No secrets. */
  readonly target: string;
  /** Connects (or creates), declares the topology. On failure, releases what it opened and throws. */
  open(signal: AbortSignal): Promise<void>;
  /** Resolves when the broker confirmed the message; rejects with a PublishError otherwise. */
  publish(message: OutgoingMessage): Promise<void>;
  /** Starts a consumer now, or as soon as the connection is up; re-established after reconnects. */
  consume(queue: string, prefetch: number, onDelivery: (delivery: Delivery) => void): ConsumerHandle;
  /** Resolves when no publish is waiting for a confirm, or when `signal` aborts. */
  settle(signal: AbortSignal): Promise<void>;
  /** Closes channels and the connection; publishes still pending are rejected. */
  close(): Promise<void>;
  /** Throws with a reason unless the connection and every channel are open and the broker answers before `signal` aborts. */
  check(signal: AbortSignal): Promise<void> | void;
}
