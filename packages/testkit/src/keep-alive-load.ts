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
  /** Builds each request (method, path, body); overrides `method`, `path` and `body` above. */
  readonly nextRequest?: () => LoadRequest;
  /**
   * Requests per second across all loops: each loop waits for its next slot, and a loop
   * that fell behind sends at once without bursting to catch up. Default: back to back.
   */
  readonly ratePerSecond?: number;
  /** Called once per request with its outcome; responses' bodies are collected for it. */
  readonly onResult?: (result: LoadResult) => void;
}

/** One request of a mixed load. */
export interface LoadRequest {
  readonly method?: string;
  /** Path and query, e.g. `/users/7`. */
  readonly path: string;
  readonly body?: string;
  readonly headers?: Readonly<Record<string, string>>;
  /** Free-form label handed back in the {@link LoadResult} (e.g. `read`, `write`). */
  readonly label?: string;
}

/** How one request ended: a complete response (`status`, `body`) or a `failure`. */
export interface LoadResult {
  readonly request: LoadRequest;
  /** `Date.now()` when it was sent. */
  readonly sentAt: number;
  /** From sending to the end of the response, or to the failure. */
  readonly latencyMs: number;
  readonly status?: number;
  readonly body?: string;
  readonly failure?: 'resetOnReusedSocket' | 'resetOnNewSocket' | 'refused' | 'other';
  readonly error?: string;
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

  const fixedRequest: LoadRequest = { method: options.method ?? 'GET', path: options.path ?? `${target.pathname}${target.search}` };
  const onResult = options.onResult;

  /** One request; resolves true when it failed (so the loop backs off). */
  const once = (): Promise<boolean> =>
    new Promise((resolve) => {
      const request = options.nextRequest?.() ?? fixedRequest;
      const body = options.nextRequest ? request.body : options.body;
      const headers: Record<string, string> = { ...options.headers, ...request.headers };
      if (body !== undefined) headers['content-length'] = String(Buffer.byteLength(body));
      counts.sent++;
      counts.inFlight++;
      const sentAt = Date.now();
      const started = performance.now();
      let settled = false;
      const settle = (outcome: Pick<LoadResult, 'status' | 'body' | 'failure' | 'error'>): void => {
        if (settled) return;
        settled = true;
        counts.inFlight--;
        onResult?.({ request, sentAt, latencyMs: performance.now() - started, ...outcome });
        resolve(outcome.failure !== undefined);
      };
      const req = http.request(
        {
          protocol: target.protocol,
          hostname: target.hostname.replace(/^\[(.*)\]$/, '$1'),
          port: target.port || 80,
          path: request.path,
          method: request.method ?? 'GET',
          headers,
          agent,
        },
        (res) => {
          if ((res.headers.connection ?? '').toLowerCase().split(/\s*,\s*/).includes('close')) {
            counts.connectionCloseHeaders++;
          }
          let text = '';
          if (onResult) res.setEncoding('utf8');
          res.on('data', (chunk: string | Buffer) => {
            if (onResult) text += String(chunk);
          });
          res.on('end', () => {
            if (settled) return;
            counts.completed++;
            const status = res.statusCode ?? 0;
            byStatus[status] = (byStatus[status] ?? 0) + 1;
            settle(onResult ? { status, body: text } : { status });
          });
          // A response cut off mid-body is still a reset on that socket.
          res.on('error', (err) => fail(err));
          res.on('aborted', () => fail(Object.assign(new Error('response aborted'), { code: 'ECONNRESET' })));
        },
      );
      const fail = (err: NodeJS.ErrnoException): void => {
        if (settled) return;
        const isReset = RESET_CODES.has(err.code ?? '') || /socket hang up/i.test(err.message);
        const failure: LoadResult['failure'] =
          err.code === 'ECONNREFUSED' ? 'refused' : isReset && req.reusedSocket ? 'resetOnReusedSocket' : isReset ? 'resetOnNewSocket' : 'other';
        const message = `${err.code ?? 'Error'}: ${err.message}`;
        if (failure === 'other') {
          counts.otherErrors++;
          if (otherErrorMessages.length < MAX_MESSAGES) otherErrorMessages.push(message);
        } else counts[failure]++;
        settle({ failure, error: message });
      };
      req.on('error', fail);
      req.setTimeout(requestTimeoutMs, () => {
        req.destroy(Object.assign(new Error(`no response within ${requestTimeoutMs} ms`), { code: 'ETIMEDOUT' }));
      });
      req.end(body);
    });

  // Each loop owns every `connections`-th slot of the overall rate, staggered by its index.
  const slotMs = options.ratePerSecond ? (1000 * options.connections) / options.ratePerSecond : 0;
  const loop = async (_: unknown, index: number): Promise<void> => {
    let nextSlot = startedAt + (slotMs * index) / options.connections;
    while (running) {
      if (slotMs > 0) {
        const wait = nextSlot - Date.now();
        if (wait > 0) await sleep(wait);
        if (!running) break;
        nextSlot = Math.max(nextSlot + slotMs, Date.now());
      }
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
