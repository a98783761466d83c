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
