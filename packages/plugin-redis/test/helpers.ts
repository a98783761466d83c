import { performance } from 'node:perf_hooks';
import { createApp, type App, type AppState, type LifecycleEvent, type PluginDeclaration } from '@plinth/core';
import { LogCapture } from '@plinth/testkit';
import { createClient } from '@redis/client';

export const APP_NAME = 'cache-app';
/** `{APP}_{PREFIX}_{KEY}` for this suite's app. */
export const envOf = (prefix: string, key: string): string => `CACHE_APP_${prefix.toUpperCase()}_${key}`;

export interface TestApp {
  readonly app: App;
  readonly logs: LogCapture;
  readonly events: LifecycleEvent[];
  /** Every state the app went through, with monotonic timestamps. */
  readonly states: { readonly to: AppState; readonly at: number; readonly reason: string | undefined }[];
}

const running = new Set<App>();

/** Stops every app `testApp` created, so a failed assertion cannot leave connections open. Use in afterEach. */
export async function stopApps(): Promise<void> {
  const apps = [...running];
  running.clear();
  await Promise.all(apps.map((app) => app.stop()));
}

/** An app with the given plugins, config from `env` only, fast background recovery. */
export function testApp(plugins: PluginDeclaration[], env: Record<string, string>, logLevel = 'debug'): TestApp {
  const logs = new LogCapture();
  const app = createApp({
    name: APP_NAME,
    plugins,
    env: { CACHE_APP_LOG_LEVEL: logLevel, ...env },
    logDestination: logs,
    retryBackoff: { initialDelayMs: 50, maxDelayMs: 200 },
    recoveryBackoff: { initialDelayMs: 50, maxDelayMs: 200 },
  });
  const events: LifecycleEvent[] = [];
  const states: TestApp['states'] = [];
  app.on('lifecycle', (event) => events.push(event));
  app.on('state', (change) => states.push({ to: change.to, at: change.at, reason: change.reason }));
  running.add(app);
  return { app, logs, events, states };
}

/** Milliseconds `fn` took to settle, and how it settled. */
export async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; value?: T; error?: unknown }> {
  const started = performance.now();
  try {
    const value = await fn();
    return { ms: performance.now() - started, value };
  } catch (error) {
    return { ms: performance.now() - started, error };
  }
}

/** Names of the clients connected to the Redis at `url` (CLIENT LIST), via a short-lived admin connection. */
export async function connectedClientNames(url: string): Promise<string[]> {
  const admin = createClient({ url, socket: { reconnectStrategy: false } });
  admin.on('error', () => undefined);
  await admin.connect();
  try {
    const list = await admin.clientList();
    return list.map((entry) => entry.name).filter((name) => name !== '');
  } finally {
    admin.destroy();
  }
}

/** Records unhandled rejections and uncaught exceptions while a test runs. */
export function trackProcessErrors(): { readonly errors: unknown[]; stop(): void } {
  const errors: unknown[] = [];
  const onError = (error: unknown): void => void errors.push(error);
  process.on('unhandledRejection', onError);
  process.on('uncaughtExceptionMonitor', onError);
  return {
    errors,
    stop() {
      process.off('unhandledRejection', onError);
      process.off('uncaughtExceptionMonitor', onError);
    },
  };
}
