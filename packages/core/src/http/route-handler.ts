import type { IncomingMessage, ServerResponse } from 'node:http';

/** Serves a request if it is one of the framework's own routes; returns false to pass it on. */
export type RouteHandler = (req: IncomingMessage, res: ServerResponse) => boolean;

/** The path of a request URL without query string or fragment, and without a trailing slash. */
export function requestPath(url: string | undefined): string {
  const raw = url ?? '/';
  const end = raw.search(/[?#]/);
  const path = end === -1 ? raw : raw.slice(0, end);
  return path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path;
}

/** A configured route prefix as a clean path: leading slash, no trailing slash (`''` for the root). */
export function routePrefix(path: string): string {
  const trimmed = path.trim().replace(/\/+$/, '');
  return trimmed === '' ? '' : trimmed.startsWith('/') ? trimmed : `/${trimmed}`;
}

/** Tries each handler in turn. */
export function firstOf(handlers: readonly RouteHandler[]): RouteHandler {
  return (req, res) => handlers.some((handle) => handle(req, res));
}

/**
 * Writes a complete response that no cache may keep. HEAD gets the same status and
 * headers (Content-Length included) without the body.
 */
export function respond(
  req: IncomingMessage,
  res: ServerResponse,
  status: number,
  contentType: string,
  body: string | Buffer,
  headers: Readonly<Record<string, string>> = {},
): void {
  const payload = typeof body === 'string' ? Buffer.from(body) : body;
  res.writeHead(status, {
    'content-type': contentType,
    'content-length': String(payload.length),
    'cache-control': 'no-store',
    ...headers,
  });
  res.end(req.method === 'HEAD' ? undefined : payload);
}

/** GET and HEAD only; anything else gets 405. Returns false when it answered. */
export function allowReadOnly(req: IncomingMessage, res: ServerResponse): boolean {
  if (req.method === 'GET' || req.method === 'HEAD') return true;
  respond(req, res, 405, 'application/json; charset=utf-8', '{"status":"method not allowed"}', { allow: 'GET, HEAD' });
  return false;
}
