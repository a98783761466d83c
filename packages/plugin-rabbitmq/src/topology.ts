import { messageOf } from '@plinth/core';
import { RabbitMqConfigError } from './errors.js';

export type ExchangeType = 'direct' | 'topic' | 'fanout';

export interface ExchangeDeclaration {
  readonly name: string;
  readonly type: ExchangeType;
  /** Survives a broker restart. Default true. */
  readonly durable?: boolean;
  readonly arguments?: Readonly<Record<string, unknown>>;
}

export interface BindingDeclaration {
  readonly exchange: string;
  /** Routing key or topic pattern (`order.*`). Default `''` (fanout ignores it). */
  readonly routingKey?: string;
}

export interface QueueDeclaration {
  readonly name: string;
  /** Survives a broker restart. Default true. */
  readonly durable?: boolean;
  readonly bindings?: readonly BindingDeclaration[];
  /**
   * Give the queue a dead-letter queue `<name>.dlq`, fed through the dead-letter exchange
   * with routing key `<name>`, and a delay queue `<name>.retry` that holds retries for
   * their wait and then dead-letters them back to `<name>`. Default true.
   */
  readonly deadLetter?: boolean;
  /** Extra queue arguments (`x-message-ttl`, `x-max-length`, `x-queue-type` …). */
  readonly arguments?: Readonly<Record<string, unknown>>;
}

/**
 * What the plugin declares on connect, and again after every reconnect. Declarations are
 * idempotent; one that conflicts with what the broker has (other type, other arguments)
 * fails startup with the broker's PRECONDITION_FAILED message.
 */
export interface TopologyDeclaration {
  readonly exchanges?: readonly ExchangeDeclaration[];
  readonly queues?: readonly QueueDeclaration[];
  /** Name of the direct exchange dead letters go through. Default `dead-letter`. */
  readonly deadLetterExchange?: string;
}

/** A step of the resolved topology, in the order it must be applied. */
export type TopologyStep =
  | { readonly kind: 'exchange'; readonly name: string; readonly type: ExchangeType; readonly durable: boolean; readonly arguments: Record<string, unknown> }
  | { readonly kind: 'queue'; readonly name: string; readonly durable: boolean; readonly arguments: Record<string, unknown> }
  | { readonly kind: 'binding'; readonly queue: string; readonly exchange: string; readonly routingKey: string };

/** The calls a topology needs; an amqplib channel and the in-process broker both offer them. */
export interface TopologyTarget {
  assertExchange(name: string, type: string, options: { durable: boolean; arguments: Record<string, unknown> }): Promise<unknown>;
  assertQueue(name: string, options: { durable: boolean; arguments: Record<string, unknown> }): Promise<unknown>;
  bindQueue(queue: string, exchange: string, routingKey: string): Promise<unknown>;
}

export const DEFAULT_DEAD_LETTER_EXCHANGE = 'dead-letter';

/** The queue that receives `queue`'s dead letters. */
export function deadLetterQueueName(queue: string): string {
  return `${queue}.dlq`;
}

/**
 * The queue that holds `queue`'s retries while they wait: nobody consumes it; each copy
 * carries its wait as a per-message TTL and, when it expires, goes back to `queue`
 * through the default exchange.
 */
export function retryQueueName(queue: string): string {
  return `${queue}.retry`;
}

/** Expands a declaration into ordered steps: exchanges, queues (with their dead-letter queues), bindings. */
export function resolveTopology(topology: TopologyDeclaration | undefined): TopologyStep[] {
  if (!topology) return [];
  const dlx = topology.deadLetterExchange ?? DEFAULT_DEAD_LETTER_EXCHANGE;
  const queues = topology.queues ?? [];
  const exchanges: TopologyStep[] = (topology.exchanges ?? []).map((e) => ({
    kind: 'exchange',
    name: e.name,
    type: e.type,
    durable: e.durable ?? true,
    arguments: { ...e.arguments },
  }));
  const queueSteps: TopologyStep[] = [];
  const bindings: TopologyStep[] = [];
  const deadLettered = queues.filter((q) => q.deadLetter !== false);
  if (deadLettered.length > 0 && !exchanges.some((e) => e.kind === 'exchange' && e.name === dlx)) {
    exchanges.push({ kind: 'exchange', name: dlx, type: 'direct', durable: true, arguments: {} });
  }
  for (const queue of queues) {
    const durable = queue.durable ?? true;
    const args: Record<string, unknown> = { ...queue.arguments };
    if (queue.deadLetter !== false) {
      args['x-dead-letter-exchange'] = dlx;
      args['x-dead-letter-routing-key'] = queue.name;
      queueSteps.push({ kind: 'queue', name: deadLetterQueueName(queue.name), durable, arguments: {} });
      queueSteps.push({
        kind: 'queue',
        name: retryQueueName(queue.name),
        durable,
        arguments: { 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': queue.name },
      });
      bindings.push({ kind: 'binding', queue: deadLetterQueueName(queue.name), exchange: dlx, routingKey: queue.name });
    }
    queueSteps.push({ kind: 'queue', name: queue.name, durable, arguments: args });
    for (const binding of queue.bindings ?? []) {
      bindings.push({ kind: 'binding', queue: queue.name, exchange: binding.exchange, routingKey: binding.routingKey ?? '' });
    }
  }
  return [...exchanges, ...queueSteps, ...bindings];
}

/** Declares every step on `target`, in order. */
export async function applyTopology(target: TopologyTarget, steps: readonly TopologyStep[]): Promise<void> {
  for (const step of steps) {
    try {
      if (step.kind === 'exchange') await target.assertExchange(step.name, step.type, { durable: step.durable, arguments: step.arguments });
      else if (step.kind === 'queue') await target.assertQueue(step.name, { durable: step.durable, arguments: step.arguments });
      else await target.bindQueue(step.queue, step.exchange, step.routingKey);
    } catch (error) {
      throw new Error(`declaring ${describeStep(step)} failed: ${messageOf(error)}`, { cause: error });
    }
  }
}

function describeStep(step: TopologyStep): string {
  if (step.kind === 'exchange') return `exchange "${step.name}" (${step.type})`;
  if (step.kind === 'queue') return `queue "${step.name}"`;
  return `binding of queue "${step.queue}" to exchange "${step.exchange}" ("${step.routingKey}")`;
}

/** Rejects declarations that could only fail at the broker, before any I/O. */
export function validateTopology(topology: TopologyDeclaration | undefined): void {
  if (!topology) return;
  const problems: string[] = [];
  const exchanges = new Set<string>();
  for (const exchange of topology.exchanges ?? []) {
    if (!exchange.name) problems.push('an exchange has an empty name');
    if (exchange.name.startsWith('amq.')) problems.push(`exchange "${exchange.name}": names starting with "amq." are reserved`);
    if (!['direct', 'topic', 'fanout'].includes(exchange.type)) {
      problems.push(`exchange "${exchange.name}": type must be direct, topic or fanout, not "${String(exchange.type)}"`);
    }
    if (exchanges.has(exchange.name)) problems.push(`exchange "${exchange.name}" is declared twice`);
    exchanges.add(exchange.name);
  }
  const queues = new Set<string>();
  for (const queue of topology.queues ?? []) {
    if (!queue.name) problems.push('a queue has an empty name (server-named queues are not supported in a topology)');
    if (queues.has(queue.name)) problems.push(`queue "${queue.name}" is declared twice`);
    queues.add(queue.name);
    for (const binding of queue.bindings ?? []) {
      if (!binding.exchange) problems.push(`queue "${queue.name}" has a binding without an exchange (the default exchange cannot be bound)`);
    }
  }
  for (const queue of topology.queues ?? []) {
    if (queue.deadLetter !== false && queues.has(deadLetterQueueName(queue.name))) {
      problems.push(`queue "${deadLetterQueueName(queue.name)}" clashes with the dead-letter queue of "${queue.name}"`);
    }
    if (queue.deadLetter !== false && queues.has(retryQueueName(queue.name))) {
      problems.push(`queue "${retryQueueName(queue.name)}" clashes with the delay queue of "${queue.name}"`);
    }
  }
  if (problems.length > 0) throw new RabbitMqConfigError(`Invalid rabbitmq topology:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
}
