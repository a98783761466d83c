import { formatConfigHelp } from '../config/describe-config.js';
import { ConfigError, StartupAbortedError } from '../errors.js';
import type { SettingsSchema } from '../config/setting.js';
import { serveHealth } from '../health/health-server.js';
import { appHttpOf } from '../http/app-http.js';
import type { LifecycleEvent } from '../lifecycle/events.js';
import type { App } from './app.js';

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_CONFIG = 78;

export interface RunOptions {
  /** Arguments to read `--help` from; `process.argv.slice(2)` by default. */
  readonly argv?: readonly string[];
}

type FatalOrigin = 'uncaughtException' | 'unhandledRejection';

/**
 * Runs the app as the process:
 * - `--help` prints the config;
 * - the health server (`{APP}_HEALTH_PORT`, 0 for none) opens before startup begins;
 * - SIGTERM/SIGINT stop it gracefully; a second signal exits at once;
 * - an uncaught exception or unhandled rejection is logged, then the app stops gracefully
 *   and the process exits 1;
 * - past `{APP}_SHUTDOWN_TIMEOUT` the process exits 1, logging what was still running;
 * - the exit code says how it ended: 0 clean, 1 failed startup, unclean stop or crash, 78 bad config.
 */
export async function runProcess<S extends SettingsSchema>(app: App<S>, options: RunOptions = {}): Promise<never> {
  const argv = options.argv ?? process.argv.slice(2);
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(formatConfigHelp(app.name, app.describeConfig()));
    return exit(EXIT_OK);
  }

  const running = trackRunningHooks(app);
  let crashed = false;
  // A running service is alive until it is stopped, even when nothing it holds open keeps
  // the event loop busy (in-process drivers, no health server); exit() ends it.
  setInterval(() => undefined, 1 << 30);

  let signals = 0;
  const onSignal = (signal: NodeJS.Signals): void => {
    signals += 1;
    if (signals > 1) {
      log(app, 'fatal', { signal, state: app.state, stillRunning: stillRunning(app, running) }, `second ${signal}: exiting now`);
      exit(EXIT_FAILURE);
      return;
    }
    void app.stop(`received ${signal}`);
  };
  const onFatal = (origin: FatalOrigin) => (error: unknown) => {
    log(app, 'fatal', { err: error, origin, state: app.state, shuttingDown: crashed || app.signal.aborted }, `${origin}: ${messageOf(error)}`);
    if (crashed) return;
    crashed = true;
    void app.stop(origin === 'uncaughtException' ? 'uncaught exception' : 'unhandled promise rejection');
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  process.on('uncaughtException', onFatal('uncaughtException'));
  process.on('unhandledRejection', onFatal('unhandledRejection'));
  app.signal.addEventListener('abort', () => armHardDeadline(app, running), { once: true });
  app.addStartupStep(async () => {
    if (app.coreConfig.healthPort !== 0) await serveHealth(app);
  });

  try {
    await app.start();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      return exit(EXIT_CONFIG);
    }
    if (error instanceof StartupAbortedError) {
      const report = await app.stop();
      return exit(report.clean && !crashed ? EXIT_OK : EXIT_FAILURE);
    }
    process.stderr.write(`${app.name} failed to start: ${messageOf(error)}\n`);
    return exit(EXIT_FAILURE);
  }
  const report = await waitForStop(app);
  return exit(report.clean && !crashed ? EXIT_OK : EXIT_FAILURE);
}

/**
 * Resolves with the stop report once shutdown (begun by anyone) has finished. `app.signal`
 * aborts synchronously inside the first `stop()` call, before that call has registered its
 * shutdown, so joining it must wait a tick or it would start a second one.
 */
function waitForStop<S extends SettingsSchema>(app: App<S>) {
  return new Promise<{ clean: boolean }>((resolve) => {
    const join = (): void => queueMicrotask(() => void app.stop().then(resolve));
    if (app.signal.aborted) join();
    else app.signal.addEventListener('abort', join, { once: true });
  });
}

/** Hooks begun and not yet ended, by component and phase, for the hard-deadline log. */
function trackRunningHooks<S extends SettingsSchema>(app: App<S>): Map<string, LifecycleEvent> {
  const running = new Map<string, LifecycleEvent>();
  app.on('lifecycle', (event) => {
    const key = `${event.phase} ${event.component}`;
    if (event.outcome === 'begin') running.set(key, event);
    else running.delete(key);
  });
  return running;
}

function stillRunning<S extends SettingsSchema>(app: App<S>, running: ReadonlyMap<string, LifecycleEvent>): string[] {
  return [...appHttpOf(app).activity(), ...running.keys()];
}

/** Past the shutdown budget the process exits 1 whatever is still running, and says what that was. */
function armHardDeadline<S extends SettingsSchema>(app: App<S>, running: ReadonlyMap<string, LifecycleEvent>): void {
  let budget = 25_000;
  try {
    budget = app.coreConfig.shutdownTimeout;
  } catch {
    // not initialized (config failed): the default budget applies
  }
  setTimeout(() => {
    const still = stillRunning(app, running);
    log(app, 'fatal', { state: app.state, shutdownTimeoutMs: budget, stillRunning: still },
      `shutdown exceeded its ${budget} ms budget: exiting${still.length ? ` with ${still.join(', ')} still running` : ''}`);
    exit(EXIT_FAILURE);
  }, budget).unref();
}

/** Through the app's logger once it exists; before that, a JSON line of the same shape. */
function log<S extends SettingsSchema>(app: App<S>, level: 'fatal' | 'error', fields: Record<string, unknown>, msg: string): void {
  try {
    app.logger[level](fields, msg);
  } catch {
    const { err, ...rest } = fields;
    const error = err instanceof Error ? { type: err.name, message: err.message, stack: err.stack } : err;
    process.stdout.write(`${JSON.stringify({ level: level === 'fatal' ? 60 : 50, time: Date.now(), app: app.name, ...rest, ...(err === undefined ? {} : { err: error }), msg })}\n`);
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function exit(code: number): never {
  process.exit(code);
}
