import http from 'node:http';
import { sleep } from './wait-for.js';

/** Options for {@link startKeepAliveLoad}. */
export interface KeepAliveLoadOptions {
  /** Base URL, e.g. `http://127.0.0.1:3000/work`. */
  readonly url: string;
  /** Concurrent request loops, and the agent's socket limit. */
  readonly connections: number;
  /** Default GET. */
  readonly method?: string;
  readonly body?: string | Uint8Array;
  readonly headers?: Readonly<Record<string, string>>;
  /** Overrides the URL's path and query. */
  readonly path?: string;
  /** Loops stop on their own after this long, so a forgotten stop() cannot hang a test. Default 30 000 ms. */
  readonly maxDurationMs?: number;
  /** A request without a response this long is destroyed and counted in otherErrors. Default 10 000 ms. */
  readonly requestTimeoutMs?: number;
  /** Pause after a failed request so a closed server is not hammered. Default 20 ms. */
  readonly backoffMs?: number;
}

/** Counts from a load run. */
export interface LoadReport {
  /** Requests started. */
  readonly sent: number;
  /** Requests whose full response arrived. */
  readonly completed: number;
  /** Completed responses per status code. */
  readonly byStatus: Readonly<Record<number, number>>;
  /**
   * ECONNRESET / EPIPE / "socket hang up" on a request sent over a kept-alive
   * socket: a request the server dropped on an established connection (a graceful drain never does that).
   */
  readonly resetOnReusedSocket: number;
  /** The same on a fresh connection: e.g. reset from the accept backlog while the listener closed. */
  readonly resetOnNewSocket: number;
  /** ECONNREFUSED: the listener was already closed. Expected after shutdown. */
  readonly refused: number;
  /** Anything else (timeouts, parse errors...). */
  readonly otherErrors: number;
  /** First few distinct-ish messages of otherErrors (capped). */
  readonly otherErrorMessages: readonly string[];
  /** Responses that carried `Connection: close`. */
  readonly connectionCloseHeaders: number;
  /** Requests still in flight when the report was taken. */
  readonly inFlight: number;
  /** Time since start, or run length once stopped. */
  readonly durationMs: number;
}

/** A running load generator. */
export interface KeepAliveLoad {
  /** Stops starting requests, waits for in-flight ones, closes the agent's sockets, returns final counts. */
  stop(): Promise<LoadReport>;
  /** Counts so far. */
  report(): LoadReport;
  /** Resolves with the final report once all loops ended (stop() or maxDurationMs). */
  readonly done: Promise<LoadReport>;
}

const MAX_MESSAGES = 20;
const RESET_CODES = new Set(['ECONNRESET', 'EPIPE']);

/**
 * Keeps `connections` keep-alive request loops running against `url`, each
 * sending the next request as soon as the previous one finished. Use it in
 * shutdown tests to prove no request on an established connection is dropped.
 */
export function startKeepAliveLoad(options: KeepAliveLoadOptions): KeepAliveLoad {
  if (!Number.isInteger(options.connections) || options.connections < 1) {
    throw new Error('startKeepAliveLoad: connections must be a positive integer');
  }
  const target = new URL(options.url);
  if (target.protocol !== 'http:') throw new Error(`startKeepAliveLoad: only http: URLs (got ${target.protocol})`);
  const agent = new http.Agent({ keepAlive: true, maxSockets: options.connections });
  const backoffMs = options.backoffMs ?? 20;
  const requestTimeoutMs = options.requestTimeoutMs ?? 10_000;
  const startedAt = Date.now();
  let endedAt: number | undefined;
  let running = true;

  const counts = {
    sent: 0,
    completed: 0,
    resetOnReusedSocket: 0,
    resetOnNewSocket: 0,
    refused: 0,
    otherErrors: 0,
    connectionCloseHeaders: 0,
    inFlight: 0,
  };
  const byStatus: Record<number, number> = {};
  const otherErrorMessages: string[] = [];

  const report = (): LoadReport => ({
    ...counts,
    byStatus: { ...byStatus },
    otherErrorMessages: [...otherErrorMessages],
    durationMs: (endedAt ?? Date.now()) - startedAt,
  });

  const body = options.body;
  const headers: Record<string, string> = { ...options.headers };
  if (body !== undefined) headers['content-length'] = String(Buffer.byteLength(body));

  /** One request; resolves true when it failed (so the loop backs off). */
  const once = (): Promise<boolean> =>
    new Promise((resolve) => {
      counts.sent++;
      counts.inFlight++;
      let settled = false;
      const settle = (failed: boolean): void => {
        if (settled) return;
        settled = true;
        counts.inFlight--;
        resolve(failed);
      };
      const req = http.request(
        {
          protocol: target.protocol,
          hostname: target.hostname.replace(/^\[(.*)\]$/, '$1'),
          port: target.port || 80,
          path: options.path ?? `${target.pathname}${target.search}`,
          method: options.method ?? 'GET',
          headers,
          agent,
        },
        (res) => {
          if ((res.headers.connection ?? '').toLowerCase().split(/\s*,\s*/).includes('close')) {
            counts.connectionCloseHeaders++;
          }
          res.on('data', () => {});
          res.on('end', () => {
            if (settled) return;
            counts.completed++;
            const status = res.statusCode ?? 0;
            byStatus[status] = (byStatus[status] ?? 0) + 1;
            settle(false);
          });
          // A response cut off mid-body is still a reset on that socket.
          res.on('error', (err) => fail(err));
          res.on('aborted', () => fail(Object.assign(new Error('response aborted'), { code: 'ECONNRESET' })));
        },
      );
      const fail = (err: NodeJS.ErrnoException): void => {
        if (settled) return;
        const isReset = RESET_CODES.has(err.code ?? '') || /socket hang up/i.test(err.message);
        if (err.code === 'ECONNREFUSED') counts.refused++;
        else if (isReset && req.reusedSocket) counts.resetOnReusedSocket++;
        else if (isReset) counts.resetOnNewSocket++;
        else {
          counts.otherErrors++;
          if (otherErrorMessages.length < MAX_MESSAGES) otherErrorMessages.push(`${err.code ?? 'Error'}: ${err.message}`);
        }
        settle(true);
      };
      req.on('error', fail);
      req.setTimeout(requestTimeoutMs, () => {
        req.destroy(Object.assign(new Error(`no response within ${requestTimeoutMs} ms`), { code: 'ETIMEDOUT' }));
      });
      req.end(body);
    });

  const loop = async (): Promise<void> => {
    while (running) {
      const failed = await once();
      if (failed && running) await sleep(backoffMs);
    }
  };

  const maxTimer = setTimeout(() => {
    running = false;
  }, options.maxDurationMs ?? 30_000);

  const done = Promise.all(Array.from({ length: options.connections }, loop)).then(() => {
    clearTimeout(maxTimer);
    endedAt = Date.now();
    agent.destroy();
    return report();
  });

  return {
    stop() {
      running = false;
      return done;
    },
    report,
    done,
  };
}
