import type { ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { PluginUnavailableError } from '../errors.js';

/** What the responder reads of the app (an `App` is one). */
export interface UnavailableSource {
  readonly logger: Logger;
  /** The plugins unavailable right now (none before start). */
  unavailablePlugins(): readonly UnavailablePlugin[];
}

export interface UnavailablePlugin {
  readonly prefix: string;
  readonly critical: boolean;
  /** Why, redacted. */
  readonly reason: string | undefined;
}

export interface UnavailableResponderOptions {
  /** `Retry-After` of a 503, in seconds (default 5). */
  readonly retryAfterSeconds?: number;
}

/** The 503 a request gets when it failed because a dependency is down. */
export interface UnavailableAnswer {
  readonly status: 503;
  readonly headers: { readonly 'retry-after': string; readonly 'cache-control': 'no-store' };
  readonly body: { readonly error: string };
  /** The plugin (prefix) held responsible, for logs; not sent to the client. */
  readonly dependency: string;
}

/** The parts of a fastify reply the responder uses. */
export interface ReplyLike {
  code(statusCode: number): ReplyLike;
  header(name: string, value: string): ReplyLike;
  send(payload?: unknown): unknown;
}

type NextFunction = (error?: unknown) => void;

/** Socket-level and driver connection failures: the dependency could not be reached. */
const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'CONNECTION_CLOSED',
  'CONNECTION_DESTROYED',
  'CONNECT_TIMEOUT',
]);

interface Outage {
  readonly startedAt: number;
  lastAnsweredAt: number;
  answered: number;
  /** The plugins requests were refused for: the outage is theirs, not every plugin's. */
  readonly dependencies: Set<string>;
}

/** An outage ends once the plugins it refused requests for are available and no 503 was needed for this long. */
const QUIET_MS = 1000;

/**
 * Turns a request that failed because a plugin is unavailable into `503` with
 * `Retry-After`, and logs each outage once, with a count, instead of a stack trace per
 * request. An error counts as "unavailable" when, anywhere in its cause chain, it is a
 * `PluginUnavailableError` or a connection failure (`ECONNREFUSED`, `ECONNRESET`,
 * postgres.js `CONNECTION_CLOSED` …), or when it is a server error raised while a
 * critical plugin is marked unavailable (the driver's own error for a query that was in
 * flight when the connection dropped). Errors that carry a 4xx status are never touched.
 */
export class UnavailableResponder {
  readonly #app: UnavailableSource;
  readonly #retryAfter: string;
  #outage: Outage | undefined;
  #timer: NodeJS.Timeout | undefined;

  constructor(app: UnavailableSource, options: UnavailableResponderOptions = {}) {
    this.#app = app;
    this.#retryAfter = String(Math.max(1, Math.round(options.retryAfterSeconds ?? 5)));
  }

  /** The 503 for `error`, or undefined when it is not a dependency outage. Counts and logs it. */
  answer(error: unknown): UnavailableAnswer | undefined {
    if (isClientError(error)) return undefined;
    const dependency = this.#dependencyOf(error);
    if (dependency === undefined) return undefined;
    this.#record(dependency, error);
    return {
      status: 503,
      headers: { 'retry-after': this.#retryAfter, 'cache-control': 'no-store' },
      body: { error: 'service temporarily unavailable, retry later' },
      dependency,
    };
  }

  /** node:http: answers 503 and returns true, or returns false and leaves `res` alone. */
  respond(error: unknown, res: ServerResponse): boolean {
    const answer = this.answer(error);
    if (!answer) return false;
    if (res.headersSent) {
      res.destroy();
      return true;
    }
    res.writeHead(answer.status, { ...answer.headers, 'content-type': 'application/json; charset=utf-8' });
    res.end(JSON.stringify(answer.body));
    return true;
  }

  /** fastify (in `setErrorHandler`): sends the 503 and returns true, or returns false. */
  reply(error: unknown, reply: ReplyLike): boolean {
    const answer = this.answer(error);
    if (!answer) return false;
    reply.code(answer.status).header('retry-after', answer.headers['retry-after']).header('cache-control', 'no-store').send(answer.body);
    return true;
  }

  /** express: `app.use(responder.expressErrorHandler())` after the routes; other errors go to `next`. */
  expressErrorHandler(): (error: unknown, req: unknown, res: ServerResponse, next: NextFunction) => void {
    return (error, _req, res, next) => {
      if (!this.respond(error, res)) next(error);
    };
  }

  /** Requests answered 503 in the current outage (0 when there is none). */
  get answeredDuringOutage(): number {
    return this.#outage?.answered ?? 0;
  }

  #dependencyOf(error: unknown): string | undefined {
    for (const link of causeChain(error)) {
      if (PluginUnavailableError.is(link)) return link.prefix;
    }
    const down = this.#pluginsDown();
    if (causeChain(error).some((link) => CONNECTION_CODES.has(String((link as { code?: unknown }).code)))) {
      return down[0]?.prefix ?? 'a dependency';
    }
    return down.find((plugin) => plugin.critical)?.prefix;
  }

  /** One warning when an outage starts; later 503s of the same outage are only counted. */
  #record(dependency: string, error: unknown): void {
    const now = performance.now();
    if (this.#outage) {
      this.#outage.answered += 1;
      this.#outage.lastAnsweredAt = now;
      this.#outage.dependencies.add(dependency);
      return;
    }
    this.#outage = { startedAt: now, lastAnsweredAt: now, answered: 1, dependencies: new Set([dependency]) };
    const reason = this.#pluginsDown().find((plugin) => plugin.prefix === dependency)?.reason ?? firstLine(error);
    this.#app.logger.warn(
      { dependency, reason },
      `answering 503 with Retry-After ${this.#retryAfter} s: ${dependency} is unavailable (logged once per outage)`,
    );
    this.#timer = setInterval(() => this.#endIfOver(), QUIET_MS / 4);
    this.#timer.unref();
  }

  /**
   * Over when the plugins it refused requests for are available again and the last 503 is
   * a quiet second old: log what it cost. A plugin that no request was refused for (a
   * non-critical one still catching up, say) does not hold the outage open.
   */
  #endIfOver(): void {
    const outage = this.#outage;
    if (!outage) return;
    const now = performance.now();
    const stillDown = this.#pluginsDown().some((plugin) => outage.dependencies.has(plugin.prefix));
    if (stillDown || now - outage.lastAnsweredAt < QUIET_MS) return;
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#outage = undefined;
    this.#app.logger.info(
      { answered503: outage.answered, outageMs: Math.round(outage.lastAnsweredAt - outage.startedAt) },
      `dependencies are back: ${outage.answered} request(s) were answered 503 during the outage`,
    );
  }

  #pluginsDown(): readonly UnavailablePlugin[] {
    try {
      return this.#app.unavailablePlugins();
    } catch {
      return []; // not started yet
    }
  }
}

/**
 * A responder for `app`: `unavailableResponder(app).reply(error, reply)` in a fastify
 * error handler, `.expressErrorHandler()` for express, `.respond(error, res)` for node:http.
 */
export function unavailableResponder(app: UnavailableSource, options?: UnavailableResponderOptions): UnavailableResponder {
  return new UnavailableResponder(app, options);
}

function causeChain(error: unknown): unknown[] {
  const chain: unknown[] = [];
  for (let current = error, depth = 0; depth < 8 && current !== null && typeof current === 'object'; depth++) {
    chain.push(current);
    current = (current as { cause?: unknown }).cause;
  }
  return chain;
}

function isClientError(error: unknown): boolean {
  if (error === null || typeof error !== 'object') return false;
  const status = (error as { statusCode?: unknown; status?: unknown }).statusCode ?? (error as { status?: unknown }).status;
  return typeof status === 'number' && status >= 400 && status < 500;
}

/** The first line of the innermost cause: the driver's own words (`connect ECONNREFUSED …`). */
function firstLine(error: unknown): string {
  const innermost = causeChain(error).at(-1) ?? error;
  const message = innermost instanceof Error ? innermost.message : String(innermost);
  return message.split('\n')[0] ?? '';
}
