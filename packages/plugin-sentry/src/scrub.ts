import type { Breadcrumb, Event } from '@sentry/node';

/** Replaces secrets in a text: the app's sensitive setting values and URL passwords. */
export type Redact = (text: string) => string;

/** Request headers that carry credentials; dropped from every event. */
const CREDENTIAL_HEADERS = new Set(['authorization', 'proxy-authorization', 'cookie', 'set-cookie', 'x-api-key', 'x-auth-token']);

/** Deep enough for any event the SDK builds; deeper values are left as they are. */
const MAX_DEPTH = 24;

/**
 * Runs `redact` over every string inside `value` (in place: the SDK hands over its own
 * copy of the event). Object keys are left alone; cycles are visited once.
 */
export function redactStrings<T>(value: T, redact: Redact): T {
  const seen = new WeakSet<object>();
  const visit = (node: unknown, depth: number): unknown => {
    if (typeof node === 'string') return redact(node);
    if (node === null || typeof node !== 'object' || depth > MAX_DEPTH || seen.has(node)) return node;
    if (ArrayBuffer.isView(node)) return node;
    seen.add(node);
    if (Array.isArray(node)) {
      for (let i = 0; i < node.length; i++) node[i] = visit(node[i], depth + 1);
      return node;
    }
    const record = node as Record<string, unknown>;
    for (const key of Object.keys(record)) record[key] = visit(record[key], depth + 1);
    return node;
  };
  return visit(value, 0) as T;
}

/** What no event may carry: cookies, request bodies and credential headers; then every string redacted. */
export function scrubEvent<E extends Event>(event: E, redact: Redact): E {
  const request = event.request;
  if (request !== undefined) {
    delete request.cookies;
    delete request.data;
    delete request.env;
    if (request.headers !== undefined) {
      for (const name of Object.keys(request.headers)) {
        if (CREDENTIAL_HEADERS.has(name.toLowerCase())) delete request.headers[name];
      }
    }
  }
  return redactStrings(event, redact);
}

export function scrubBreadcrumb(breadcrumb: Breadcrumb, redact: Redact): Breadcrumb {
  return redactStrings(breadcrumb, redact);
}
