import { randomBytes } from 'node:crypto';
import { createClient } from 'redis';
import { requireService } from './services.js';

/** A Redis DB index reserved for one test. */
export interface ScratchRedis {
  /** URL selecting the claimed DB, e.g. `redis://127.0.0.1:6379/3`. */
  readonly url: string;
  readonly db: number;
  /** Flushes the DB and gives the claim back. Safe to call twice. */
  release(): Promise<void>;
}

const CLAIM_PREFIX = 'plinth:testkit:db:';
/** A crashed test's claim expires on its own after this long. */
const CLAIM_TTL_MS = 600_000;
/** Deletes the claim only if it is still ours, so a late release cannot free someone else's claim. */
const RELEASE_SCRIPT = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end";

/**
 * Claims a free DB index among 1..15 on the shared Redis (claims live in DB 0,
 * `SET ... NX PX`, so parallel test processes never share a DB), and flushes it.
 */
export async function createScratchRedis(): Promise<ScratchRedis> {
  const baseUrl = await requireService('redis');
  const token = `${process.pid}:${randomBytes(8).toString('hex')}`;
  const db = await withClient(baseUrl, 0, async (client) => {
    for (let n = 1; n <= 15; n++) {
      const ok = await client.sendCommand(['SET', `${CLAIM_PREFIX}${n}`, token, 'NX', 'PX', String(CLAIM_TTL_MS)]);
      if (ok === 'OK') return n;
    }
    return undefined;
  });
  if (db === undefined) {
    throw new Error(
      `createScratchRedis: all Redis DBs 1..15 are claimed. Claims expire after ${CLAIM_TTL_MS / 1000} s; ` +
        `to clear stale ones now: redis-cli --scan --pattern '${CLAIM_PREFIX}*' | xargs -r redis-cli del`,
    );
  }
  const unclaim = (): Promise<unknown> =>
    withClient(baseUrl, 0, (client) => client.sendCommand(['EVAL', RELEASE_SCRIPT, '1', `${CLAIM_PREFIX}${db}`, token]));
  try {
    // A previous crashed run may have left keys behind.
    await withClient(baseUrl, db, (client) => client.sendCommand(['FLUSHDB']));
  } catch (err) {
    await unclaim().catch(() => {});
    throw err;
  }

  const url = new URL(baseUrl);
  url.pathname = `/${db}`;
  let released: Promise<void> | undefined;
  return {
    url: url.toString(),
    db,
    release() {
      released ??= (async () => {
        try {
          await withClient(baseUrl, db, (client) => client.sendCommand(['FLUSHDB']));
        } finally {
          await unclaim();
        }
      })();
      return released;
    },
  };
}

/** Minimal client shape used here; keeps node-redis' heavy generics out of our types. */
interface CommandClient {
  sendCommand(args: string[]): Promise<unknown>;
}

async function withClient<T>(url: string, database: number, fn: (client: CommandClient) => Promise<T>): Promise<T> {
  const client = createClient({ url, database, socket: { connectTimeout: 5000, reconnectStrategy: false } });
  let lastError: Error | undefined;
  // Without a listener an 'error' event would crash the test process.
  client.on('error', (err: Error) => {
    lastError = err;
  });
  try {
    await client.connect();
  } catch (err) {
    throw lastError ?? err;
  }
  try {
    return await fn(client);
  } finally {
    client.destroy();
  }
}
