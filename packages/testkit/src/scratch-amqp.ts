import amqp from 'amqplib';
import { requireService } from './services.js';
import { uniqueName } from './unique-name.js';

/** Unique RabbitMQ queue / exchange names for one test, deleted by cleanup(). */
export interface ScratchAmqpNames {
  /** Unique prefix shared by every name handed out. */
  readonly prefix: string;
  /** A name `<prefix>.<suffix>` (suffix defaults to a counter); remembered for cleanup. */
  name(suffix?: string): string;
  /** Deletes every queue and exchange named by name(); names that do not exist are ignored. */
  cleanup(): Promise<void>;
}

/**
 * Hands out unique names so parallel tests never share a queue or exchange,
 * and removes them afterwards. Does not declare anything itself.
 */
export function scratchAmqpNames(prefix = 'plinth-test'): ScratchAmqpNames {
  const unique = uniqueName(prefix, '.');
  const names = new Set<string>();
  let counter = 0;
  return {
    prefix: unique,
    name(suffix) {
      const name = `${unique}.${suffix ?? String(++counter)}`;
      names.add(name);
      return name;
    },
    async cleanup() {
      if (names.size === 0) return;
      const url = await requireService('rabbitmq');
      const connection = await amqp.connect(url);
      // An unhandled 'error' event would crash the test process.
      connection.on('error', () => {});
      try {
        for (const name of names) {
          // We do not know whether a name became a queue or an exchange: try both.
          await onFreshChannel(connection, (ch) => ch.deleteQueue(name));
          await onFreshChannel(connection, (ch) => ch.deleteExchange(name));
        }
        names.clear();
      } finally {
        await connection.close().catch(() => {});
      }
    },
  };
}

/**
 * A failed operation (404 on an older broker) closes its channel in amqplib,
 * so each delete gets its own channel and its failure is ignored.
 */
async function onFreshChannel(connection: amqp.ChannelModel, fn: (ch: amqp.Channel) => Promise<unknown>): Promise<void> {
  const channel = await connection.createChannel();
  channel.on('error', () => {});
  try {
    await fn(channel);
  } catch {
    // Not found, or the broker refused: nothing left for us to remove.
  } finally {
    await channel.close().catch(() => {});
  }
}
