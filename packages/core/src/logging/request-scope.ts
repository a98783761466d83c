import { AsyncLocalStorage } from 'node:async_hooks';
import type { EventEmitter } from 'node:events';

/** What the log lines of one request carry besides their own fields. */
interface RequestScope {
  readonly fields: Record<string, unknown>;
}

const scopes = new AsyncLocalStorage<RequestScope>();

/** The current request's log fields (`{ requestId }`), or none outside a request: pino's mixin. */
export function requestLogFields(): Record<string, unknown> {
  return scopes.getStore()?.fields ?? {};
}

/**
 * Runs `fn` in a new request scope. The request's and response's emitters run their
 * listeners in it too: a body parser's `data` callbacks come from the socket, whose context
 * predates the request, and would otherwise lose the scope for everything after them.
 */
export function runInRequestScope<T>(emitters: readonly EventEmitter[], fn: (fields: Record<string, unknown>) => T): T {
  const scope: RequestScope = { fields: {} };
  for (const emitter of emitters) {
    const emit = emitter.emit;
    emitter.emit = function (this: EventEmitter, ...args: Parameters<EventEmitter['emit']>): boolean {
      return scopes.run(scope, () => Reflect.apply(emit, this, args) as boolean);
    } as EventEmitter['emit'];
  }
  return scopes.run(scope, () => fn(scope.fields));
}
