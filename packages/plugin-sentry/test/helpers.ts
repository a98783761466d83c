import { LogCapture } from '@plinth/testkit';
import { createApp, type App, type AppOptions, type PluginDeclaration } from '@plinth/core';

export const APP_NAME = 'tracked-app';
/** `TRACKED_APP_ERROR_TRACKING_{KEY}`. */
export const trackingEnv = (key: string): string => `TRACKED_APP_ERROR_TRACKING_${key}`;

const running = new Set<App>();

/** Stops every app `trackedApp` made; use in afterEach so a failed assertion leaves nothing running. */
export async function stopApps(): Promise<void> {
  const apps = [...running];
  running.clear();
  await Promise.all(apps.map((app) => app.stop()));
}

export interface TrackedApp {
  readonly app: App;
  readonly logs: LogCapture;
}

/** An app named `tracked-app` whose config comes from `env` only, with fast retries. */
export function trackedApp(options: { plugins: PluginDeclaration[]; services?: AppOptions['services']; env: Record<string, string>; version?: string }): TrackedApp {
  const logs = new LogCapture();
  const app = createApp({
    name: APP_NAME,
    plugins: options.plugins,
    services: options.services ?? [],
    env: { TRACKED_APP_LOG_LEVEL: 'info', ...options.env },
    logDestination: logs,
    ...(options.version !== undefined && { version: options.version }),
    retryBackoff: { initialDelayMs: 20, maxDelayMs: 50 },
    recoveryBackoff: { initialDelayMs: 50, maxDelayMs: 100 },
  });
  running.add(app);
  return { app, logs };
}

/** A Sentry event's tags as a plain record. */
export function tagsOf(event: Readonly<Record<string, unknown>>): Record<string, unknown> {
  return (event.tags ?? {}) as Record<string, unknown>;
}

/** The first exception value of an event. */
export function exceptionValue(event: Readonly<Record<string, unknown>>): string | undefined {
  const values = (event.exception as { values?: { value?: string }[] } | undefined)?.values;
  return values?.[values.length - 1]?.value;
}
