import http from 'node:http';
import type net from 'node:net';
import { gunzipSync } from 'node:zlib';

/** One item of a received envelope: its type (`event`, `transaction`, `span`, `client_report`…) and payload. */
export interface ReceivedItem {
  readonly type: string;
  readonly payload: Readonly<Record<string, unknown>>;
  /** Milliseconds since the epoch when the envelope arrived. */
  readonly receivedAt: number;
}

/** How the server answers envelope posts. */
export type EnvelopeServerMode =
  /** Accept and record (200). */
  | 'accept'
  /** Read the request and never answer: a wedged ingest. */
  | 'hang'
  /** Destroy every new connection at once: a refusing endpoint. */
  | 'refuse';

/** A local stand-in for Sentry's ingest: the real SDK sends here and tests read what arrived. */
export interface SentryEnvelopeServer {
  readonly port: number;
  /** `http://public@127.0.0.1:<port>/<project>`: pass as the SDK's DSN. */
  dsn(project?: number): string;
  /** Every item of every envelope recorded so far, in arrival order. */
  readonly items: readonly ReceivedItem[];
  /** Items of type `event` (errors and messages). */
  readonly events: readonly Readonly<Record<string, unknown>>[];
  /** Items of type `transaction`. */
  readonly transactions: readonly Readonly<Record<string, unknown>>[];
  /** Streamed spans (every span of every `span` item container). */
  readonly spans: readonly Readonly<Record<string, unknown>>[];
  /** Raw request bodies (decompressed), to search for text that must never leave the process. */
  readonly rawBodies: readonly string[];
  /** TCP connections accepted since start (refused ones included). */
  readonly connections: number;
  setMode(mode: EnvelopeServerMode): void;
  /** Resolves with the first event the predicate accepts; rejects after `timeoutMs`. */
  waitForEvent(predicate: (event: Readonly<Record<string, unknown>>) => boolean, timeoutMs?: number): Promise<Readonly<Record<string, unknown>>>;
  /** Destroys open sockets (hung requests too) and stops listening. */
  close(): Promise<void>;
}

/** Starts the envelope server on a free loopback port. */
export async function startSentryEnvelopeServer(options: { mode?: EnvelopeServerMode } = {}): Promise<SentryEnvelopeServer> {
  // Loaded here, not with the testkit: most tests that import the testkit never start this server.
  const { parseEnvelope } = await import('@sentry/core');
  let mode: EnvelopeServerMode = options.mode ?? 'accept';
  const items: ReceivedItem[] = [];
  const rawBodies: string[] = [];
  const sockets = new Set<net.Socket>();
  const waiters = new Set<() => void>();
  let connections = 0;

  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      if (mode === 'hang') return;
      if (request.method !== 'POST' || !/^\/api\/\d+\/envelope\/?$/.test(request.url?.split('?')[0] ?? '')) {
        response.writeHead(404).end();
        return;
      }
      let body = Buffer.concat(chunks);
      if (request.headers['content-encoding'] === 'gzip') body = gunzipSync(body);
      rawBodies.push(body.toString('utf8'));
      record(body);
      response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      for (const wake of waiters) wake();
    });
  });
  server.on('connection', (socket) => {
    connections++;
    if (mode === 'refuse') {
      socket.destroy();
      return;
    }
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  function record(body: Buffer): void {
    const [, envelopeItems] = parseEnvelope(new Uint8Array(body));
    const receivedAt = Date.now();
    for (const [header, payload] of envelopeItems) {
      const type = String(header.type);
      const parsed = payload instanceof Uint8Array ? {} : (payload as Record<string, unknown>);
      items.push({ type, payload: parsed, receivedAt });
    }
  }

  const ofType = (type: string) => items.filter((item) => item.type === type).map((item) => item.payload);

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port: 0 }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('startSentryEnvelopeServer: no TCP address');
  const port = address.port;

  return {
    port,
    dsn: (project = 1) => `http://public@127.0.0.1:${port}/${project}`,
    get items() {
      return items;
    },
    get events() {
      return ofType('event');
    },
    get transactions() {
      return ofType('transaction');
    },
    get spans() {
      // A streamed-span item carries a container `{ items: [span, …] }`.
      return ofType('span').flatMap((container) => (Array.isArray(container.items) ? (container.items as Record<string, unknown>[]) : [container]));
    },
    get rawBodies() {
      return rawBodies;
    },
    get connections() {
      return connections;
    },
    setMode(next) {
      mode = next;
    },
    waitForEvent(predicate, timeoutMs = 10_000) {
      return new Promise((resolve, reject) => {
        const check = (): boolean => {
          const found = ofType('event').find(predicate);
          if (found === undefined) return false;
          clearTimeout(timer);
          waiters.delete(onArrival);
          resolve(found);
          return true;
        };
        const onArrival = (): void => void check();
        const timer = setTimeout(() => {
          waiters.delete(onArrival);
          const seen = ofType('event').map((event) => JSON.stringify(event.message ?? event.exception ?? event.event_id));
          reject(new Error(`no matching Sentry event within ${timeoutMs} ms; received ${seen.length}: ${seen.join(' | ').slice(0, 2000)}`));
        }, timeoutMs);
        if (!check()) waiters.add(onArrival);
      });
    },
    close() {
      return new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      });
    },
  };
}
