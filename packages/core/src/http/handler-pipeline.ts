import type { IncomingMessage, OutgoingHttpHeaders, Server as HttpServer, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import { runInRequestScope } from '../logging/request-scope.js';
import { messageOf } from '../message-of.js';
import { DEFAULT_HANDLER_TIMEOUT_MS, type RequestContext, type RequestHandler, type RequestOutcome, type RequestStop } from './request-handler.js';
import { requestPath } from './route-handler.js';

const JSON_TYPE = 'application/json; charset=utf-8';

/** A handler that ran past its deadline. */
class HandlerDeadline {
  constructor(readonly timeoutMs: number) {}
}

/**
 * The request handlers plugins contributed, run on every server the app serves. With none,
 * requests pass straight through.
 */
export class HandlerPipeline {
  readonly #handlers: RequestHandler[] = [];
  readonly #logger: () => Logger | undefined;

  constructor(logger: () => Logger | undefined) {
    this.#logger = logger;
  }

  /** Adds a handler; equal priorities keep the order they were added in. */
  add(handler: RequestHandler): void {
    this.#handlers.push(handler);
    this.#handlers.sort((a, b) => a.priority - b.priority);
  }

  get handlers(): readonly RequestHandler[] {
    return this.#handlers;
  }

  /**
   * Runs the handlers before the server's own `request` listeners. Install it before the
   * app's own interception (probes), which then runs first and never reaches the handlers.
   */
  install(server: HttpServer): void {
    const emit = server.emit;
    const handlers = this.#handlers;
    const run = (req: IncomingMessage, res: ServerResponse, fields: Record<string, unknown>, handOn: () => void): Promise<void> => this.#run(req, res, fields, handOn);
    server.emit = function (this: HttpServer, event: string | symbol, ...args: unknown[]): boolean {
      if (event !== 'request' || handlers.length === 0) return Reflect.apply(emit, this, [event, ...args]) as boolean;
      const [req, res] = args as [IncomingMessage, ServerResponse];
      const handOn = (): void => void Reflect.apply(emit, this, [event, ...args]);
      runInRequestScope([req, res], (fields) => void run(req, res, fields, handOn));
      return true;
    } as HttpServer['emit'];
  }

  async #run(req: IncomingMessage, res: ServerResponse, fields: Record<string, unknown>, handOn: () => void): Promise<void> {
    const started = performance.now();
    const handlers = [...this.#handlers];
    const passed: RequestHandler[] = [];
    // The request scope adds the handlers' fields to every line of the root logger.
    const logger = this.#logger;
    res.once('finish', () => this.#respond(passed, req, res, fields, started, logger));
    for (const handler of handlers) {
      let outcome: RequestOutcome;
      try {
        outcome = await this.#runOne(handler, req, res, fields, logger);
      } catch (error) {
        if (error instanceof HandlerDeadline) {
          logger()?.warn({ handler: handler.name, timeoutMs: error.timeoutMs }, `request handler ${handler.name} did not decide within its ${error.timeoutMs} ms deadline: answered 503`);
          send(res, 503, { error: 'request handler timed out', handler: handler.name }, {});
        } else {
          logger()?.error({ err: error, handler: handler.name }, `request handler ${handler.name} failed: ${messageOf(error)}`);
          send(res, 500, { error: 'internal error' }, {});
        }
        return;
      }
      if (outcome?.stop) {
        send(res, outcome.status, outcome.body, outcome.headers);
        return;
      }
      // It answered by itself (a redirect written to the response).
      if (res.headersSent || res.writableEnded) return;
      passed.push(handler);
    }
    handOn();
  }

  /**
   * A handler that decides synchronously (request ids, key checks) costs no timer: only a
   * promise it returns races the deadline, and its abort signal exists once it is read.
   */
  #runOne(handler: RequestHandler, req: IncomingMessage, res: ServerResponse, fields: Record<string, unknown>, logger: () => Logger | undefined): RequestOutcome | Promise<RequestOutcome> {
    if (!handler.onRequest) return undefined;
    const timeoutMs = handler.timeoutMs ?? DEFAULT_HANDLER_TIMEOUT_MS;
    let abort: AbortController | undefined;
    const ctx: RequestContext = {
      ...baseContext(req, res, fields, logger),
      get signal(): AbortSignal {
        abort ??= new AbortController();
        return abort.signal;
      },
      setResponseHeader: (name, value) => res.setHeader(name, value),
      stop: (status, body = '', headers = {}): RequestStop => ({ stop: true, status, body, headers }),
    };
    const decided = handler.onRequest(ctx);
    if (!isPromiseLike(decided)) return decided;
    const pending = Promise.resolve(decided);
    pending.catch(() => undefined); // a late throw after the deadline is no one's concern
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        abort?.abort(new HandlerDeadline(timeoutMs));
        reject(new HandlerDeadline(timeoutMs));
      }, timeoutMs);
    });
    return Promise.race([pending, deadline]).finally(() => clearTimeout(timer));
  }

  #respond(passed: readonly RequestHandler[], req: IncomingMessage, res: ServerResponse, fields: Record<string, unknown>, started: number, logger: () => Logger | undefined): void {
    for (const handler of [...passed].reverse()) {
      try {
        handler.onResponse?.({ ...baseContext(req, res, fields, logger), statusCode: res.statusCode, durationMs: performance.now() - started });
      } catch (error) {
        logger()?.error({ err: error, handler: handler.name }, `request handler ${handler.name} failed in onResponse: ${messageOf(error)}`);
      }
    }
  }
}

function baseContext(req: IncomingMessage, res: ServerResponse, fields: Record<string, unknown>, logger: () => Logger | undefined) {
  return {
    request: req,
    response: res,
    method: req.method ?? 'GET',
    path: requestPath(req.url),
    get logger(): Logger {
      return logger() as Logger;
    },
    header: (name: string): string | undefined => {
      const value = req.headers[name.toLowerCase()];
      return Array.isArray(value) ? value[0] : value;
    },
    addLogFields: (added: Readonly<Record<string, unknown>>): void => void Object.assign(fields, added),
  };
}

function send(res: ServerResponse, status: number, body: unknown, headers: OutgoingHttpHeaders): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  const type = typeof body === 'string' ? 'text/plain; charset=utf-8' : JSON_TYPE;
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

function isPromiseLike(value: unknown): value is PromiseLike<RequestOutcome> {
  return typeof (value as { then?: unknown } | undefined)?.then === 'function';
}
