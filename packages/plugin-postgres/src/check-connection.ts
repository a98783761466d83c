import { raceAbort } from '@plinth/core/lifecycle';
import type postgres from 'postgres';
import { createClient, type ClientOptionsInput } from './client-options.js';
import { SocketTracker } from './socket-tracker.js';

type CheckInput = Omit<ClientOptionsInput, 'max' | 'socket' | 'statementTimeoutMs'>;

interface CheckClient {
  readonly sql: postgres.Sql;
  readonly sockets: SocketTracker;
}

/**
 * `select 1` on a dedicated one-connection client, so a health check never queues
 * behind a busy pool. A check that fails or runs out of time throws its connection
 * away (sockets destroyed), so the next check starts fresh instead of waiting behind
 * a wedged one.
 */
export class CheckConnection {
  readonly #input: CheckInput;
  #client: CheckClient | undefined;
  #closed = false;

  constructor(input: CheckInput) {
    this.#input = input;
  }

  async check(signal: AbortSignal): Promise<void> {
    if (this.#closed) throw new Error('the connection is closed');
    const client = (this.#client ??= this.#open());
    try {
      await raceAbort(client.sql`select 1`, signal);
    } catch (error) {
      this.#discard(client);
      throw error;
    }
  }

  close(): void {
    this.#closed = true;
    if (this.#client) this.#discard(this.#client);
  }

  #open(): CheckClient {
    const sockets = new SocketTracker();
    const { target } = this.#input;
    const sql = createClient({
      ...this.#input,
      max: 1,
      socket: sockets.connector(target.host, target.port),
      statementTimeoutMs: 0,
      fetchTypes: false,
    });
    return { sql, sockets };
  }

  #discard(client: CheckClient): void {
    if (this.#client === client) this.#client = undefined;
    client.sockets.destroyAll('check connection discarded');
    client.sql.end({ timeout: 0 }).catch(() => undefined);
  }
}
