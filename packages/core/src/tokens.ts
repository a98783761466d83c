import type { InjectionToken } from './internal/injection-metadata.js';

/**
 * The container token of a plugin instance. `Symbol.for` so that two copies of
 * @plinth/core in one process still agree on it.
 */
export function pluginToken(prefix: string): symbol {
  return Symbol.for(`plinth.plugin:${prefix}`);
}

/** Token of the app's own resolved settings (`createApp({ settings })`). */
export const APP_SETTINGS: unique symbol = Symbol.for('plinth.app-settings') as never;
/** Token of the app's root logger (pino). */
export const LOGGER: unique symbol = Symbol.for('plinth.logger') as never;
/** Token of the app itself, for services that hand it an HTTP server. */
export const APP: unique symbol = Symbol.for('plinth.app') as never;

const LAZY = Symbol.for('plinth.lazy-token');

/** A token named through a function, read when the app is created rather than when the decorator runs. */
export interface LazyToken<T extends InjectionToken = InjectionToken> {
  readonly [LAZY]: true;
  readonly resolve: () => T;
}

/**
 * Names a class that is not defined yet where the decorator runs: declared further down
 * the file, or in a module that imports this one (`Cannot access 'Cart' before
 * initialization` otherwise). `@Inject(lazy(() => Cart))`. It is read when the app is
 * created; a real cycle between services is still an error, naming every step.
 */
export function lazy<T extends InjectionToken>(resolve: () => T): LazyToken<T> {
  return { [LAZY]: true, resolve };
}

export function isLazyToken(value: unknown): value is LazyToken {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[LAZY] === true;
}
