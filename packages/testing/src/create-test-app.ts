import { createApp, envName, type App, type AppOptions, type LifecycleEvent, type SettingsSchema, type StateChange } from '@plinth/core';
import { LogCapture, type LogRecord } from './log-capture.js';
import { replacePlugin, type PluginReplacement } from './replace-plugin.js';

type ServiceClass = NonNullable<AppOptions['services']>[number];

export interface TestAppOverrides {
  /** By prefix: a plugin package's double (`redis.embedded()`) or any object to inject as the instance. */
  readonly plugins?: Readonly<Record<string, PluginReplacement>>;
  /** By class: the object injected wherever the class is injected; the class itself is never built. */
  readonly services?: Iterable<readonly [ServiceClass, object]>;
}

/** A started app with what a test wants to look at. Stop it with `stop()` or `await using`. */
export interface TestApp<S extends SettingsSchema = SettingsSchema> extends AsyncDisposable {
  readonly app: App<S>;
  /** A service (by class) or a built-in value (by token). */
  readonly get: App<S>['get'];
  /** The plugin instance (or its replacement) declared with this prefix. */
  readonly plugin: App<S>['plugin'];
  /** Every log line so far, parsed. */
  readonly logs: readonly LogRecord[];
  /** Every lifecycle event so far (preStart/onStart/onStop of each component). */
  readonly events: readonly LifecycleEvent[];
  /** Every state change so far (starting, ready, degraded, draining, stopped). */
  readonly states: readonly StateChange[];
  /** Stops the app (idempotent). */
  stop(): ReturnType<App<S>['stop']>;
}

/**
 * Starts an app for a test. Config comes from code and `options.env` only (never from
 * `process.env`, so a developer's shell cannot change a test), logs are captured instead
 * of printed, and the overrides replace plugins by prefix and services by class.
 * Rejects when startup fails, after the app has rolled back.
 */
export async function createTestApp<S extends SettingsSchema = SettingsSchema>(
  options: AppOptions<S>,
  overrides: TestAppOverrides = {},
): Promise<TestApp<S>> {
  const replaced = overrides.plugins ?? {};
  const declared = new Set((options.plugins ?? []).map((p) => p.prefix));
  const unknown = Object.keys(replaced).filter((prefix) => !declared.has(prefix));
  if (unknown.length) {
    throw new TypeError(`createTestApp: no plugin is declared with prefix ${unknown.map((p) => `"${p}"`).join(', ')}`);
  }
  const logs = new LogCapture();
  const app = createApp<S>({
    ...options,
    env: withoutReplacedPlugins(options.env ?? {}, options.name, Object.keys(replaced)),
    logDestination: options.logDestination ?? logs,
    plugins: (options.plugins ?? []).map((p) => (p.prefix in replaced ? replacePlugin(p, replaced[p.prefix] as PluginReplacement) : p)),
    ...(overrides.services ? { overrides: new Map(overrides.services) } : {}),
  });
  const events: LifecycleEvent[] = [];
  const states: StateChange[] = [];
  app.on('lifecycle', (event) => events.push(event));
  app.on('state', (change) => states.push(change));
  await app.start();
  const stop = (): ReturnType<App<S>['stop']> => app.stop('test finished');
  return {
    app,
    get: app.get.bind(app),
    plugin: app.plugin.bind(app),
    logs: logs.records,
    events,
    states,
    stop,
    [Symbol.asyncDispose]: async () => void (await stop()),
  };
}

/** A replaced plugin must not be pointed back at a server by an env var the test passed on. */
function withoutReplacedPlugins(
  env: Readonly<Record<string, string | undefined>>,
  appName: string,
  prefixes: readonly string[],
): Record<string, string | undefined> {
  const owned = prefixes.map((prefix) => `${envName(appName, prefix)}_`);
  return Object.fromEntries(Object.entries(env).filter(([name]) => !owned.some((start) => name.startsWith(start))));
}
