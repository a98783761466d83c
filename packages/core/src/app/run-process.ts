import type { Logger } from 'pino';
import { formatConfigHelp, type ConfigEntry } from '../config/describe-config.js';
import { ConfigError, StartupAbortedError } from '../errors.js';
import type { LifecycleEvent, AppState } from '../lifecycle/events.js';
import type { StopReport } from '../lifecycle/orchestrator.js';
import { messageOf } from '../message-of.js';
import type { ErrorContext } from './error-channel.js';

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_CONFIG = 78;

export interface RunOptions {
  /** Arguments to read `--help` and `--version` from; `process.argv.slice(2)` by default. */
  readonly argv?: readonly string[];
}

/** The settings the runner reads once config is loaded. */
export interface ProcessSettings {
  readonly healthPort: number;
  readonly shutdownTimeout: number;
}

/** What the process runner needs from an app. */
export interface ProcessHost {
  readonly name: string;
  readonly version: string | undefined;
  readonly signal: AbortSignal;
  state(): AppState;
  /** Loads the modules the env names first: a bad one is a ConfigError. */
  describeSettings(): Promise<ConfigEntry[]>;
  start(): Promise<void>;
  stop(reason?: string): Promise<StopReport>;
  /** Re-reads and applies the reloadable settings; logs its own outcome. */
  reload(): Promise<void>;
  addStartupStep(step: (signal: AbortSignal) => Promise<void>): void;
  /** Undefined until settings are loaded. */
  logger(): Logger | undefined;
  /** Undefined until settings are loaded. */
  settings(): ProcessSettings | undefined;
  /** Opens the dedicated health server. */
  serveHealth(): Promise<void>;
  /** What shutdown is still waiting for on the HTTP side. */
  activity(): string[];
  onLifecycleEvent(listener: (event: LifecycleEvent) => void): () => void;
  reportError(error: unknown, context: ErrorContext): void;
  /** Why an unhandled rejection is a known driver defect a plugin declared; undefined for a crash. */
  toleratedWhy(reason: unknown): string | undefined;
  /** The plugins' beforeExit steps, each bounded. */
  runExitSteps(): Promise<void>;
}

type FatalOrigin = 'uncaughtException' | 'unhandledRejection';

/** Used when config could not be loaded. */
const DEFAULT_SHUTDOWN_TIMEOUT_MS = 25_000;

/**
 * Runs the app as the process:
 * - `--help` prints the config, `--version` the app's version;
 * - the health server (`{APP}_HEALTH_PORT`, 0 for none) opens before startup begins;
 * - SIGTERM/SIGINT stop it gracefully; a second signal exits at once;
 * - SIGHUP reloads the settings (`app.reload()`); SIGUSR2 is logged and ignored: the app
 *   keeps serving (their default would end the process); SIGUSR1 is left to Node, which
 *   starts the inspector;
 * - an uncaught exception or unhandled rejection is logged, then the app stops gracefully
 *   and the process exits 1, unless a plugin declared that rejection a known defect of its
 *   driver (`ctx.app.tolerateRejection`): that one is logged as a warning;
 * - past `{APP}_SHUTDOWN_TIMEOUT` the process exits 1, logging what was still running;
 * - before exiting it awaits the plugins' beforeExit steps (bounded);
 * - the exit code says how it ended: 0 clean, 1 failed startup, unclean stop or crash, 78 bad config.
 */
export async function runProcess(app: ProcessHost, options: RunOptions = {}): Promise<never> {
  const argv = options.argv ?? process.argv.slice(2);
  if (argv.includes('--help') || argv.includes('-h')) {
    try {
      process.stdout.write(formatConfigHelp(app.name, await app.describeSettings()));
    } catch (error) {
      process.stderr.write(`${messageOf(error)}\n`);
      return exit(ConfigError.is(error) ? EXIT_CONFIG : EXIT_FAILURE);
    }
    return exit(EXIT_OK);
  }
  if (argv.includes('--version') || argv.includes('-v')) {
    process.stdout.write(`${app.name} ${app.version ?? '(version unknown)'}\n`);
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
      log(app, 'fatal', { signal, state: app.state(), stillRunning: stillRunning(app, running) }, `second ${signal}: exiting now`);
      exit(EXIT_FAILURE);
      return;
    }
    void app.stop(`received ${signal}`);
  };
  const onFatal = (origin: FatalOrigin) => (error: unknown) => {
    const tolerated = origin === 'unhandledRejection' ? app.toleratedWhy(error) : undefined;
    if (tolerated !== undefined) {
      log(app, 'warn', { err: error, origin, tolerated }, `${origin} tolerated (${tolerated}): ${messageOf(error)}`);
      app.reportError(error, { source: origin, level: 'warning' });
      return;
    }
    log(app, 'fatal', { err: error, origin, state: app.state(), shuttingDown: crashed || app.signal.aborted }, `${origin}: ${messageOf(error)}`);
    app.reportError(error, { source: origin, level: 'fatal' });
    if (crashed) return;
    crashed = true;
    void app.stop(origin === 'uncaughtException' ? 'uncaught exception' : 'unhandled promise rejection');
  };
  const ignore = (signal: NodeJS.Signals): void => {
    log(app, 'warn', { signal, state: app.state() }, `received ${signal}: ignored, the app keeps serving`);
  };
  process.on('SIGHUP', (signal) => {
    log(app, 'info', { signal }, `received ${signal}: reloading the config`);
    void app.reload().catch((error: unknown) => log(app, 'error', { err: error }, `config reload failed: ${messageOf(error)}`));
  });
  process.on('SIGUSR2', ignore);
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  process.on('uncaughtException', onFatal('uncaughtException'));
  process.on('unhandledRejection', onFatal('unhandledRejection'));
  app.signal.addEventListener('abort', () => armHardDeadline(app, running), { once: true });
  app.addStartupStep(async () => {
    if (app.settings()?.healthPort !== 0) await app.serveHealth();
  });

  try {
    await app.start();
  } catch (error) {
    if (ConfigError.is(error)) {
      process.stderr.write(`${error.message}\n`);
      return exitAfterSteps(app, EXIT_CONFIG);
    }
    if (StartupAbortedError.is(error)) {
      const report = await app.stop();
      return exitAfterSteps(app, report.clean && !crashed ? EXIT_OK : EXIT_FAILURE);
    }
    process.stderr.write(`${app.name} failed to start: ${messageOf(error)}\n`);
    return exitAfterSteps(app, EXIT_FAILURE);
  }
  const report = await waitForStop(app);
  return exitAfterSteps(app, report.clean && !crashed ? EXIT_OK : EXIT_FAILURE);
}

/** Resolves with the stop report once shutdown (begun by anyone) has finished. */
function waitForStop(app: ProcessHost): Promise<StopReport> {
  return new Promise<StopReport>((resolve) => {
    const join = (): void => void app.stop().then(resolve);
    if (app.signal.aborted) join();
    else app.signal.addEventListener('abort', join, { once: true });
  });
}

/** Hooks begun and not yet ended, by component and phase, for the hard-deadline log. */
function trackRunningHooks(app: ProcessHost): Map<string, LifecycleEvent> {
  const running = new Map<string, LifecycleEvent>();
  app.onLifecycleEvent((event) => {
    const key = `${event.phase} ${event.component}`;
    if (event.outcome === 'begin') running.set(key, event);
    else running.delete(key);
  });
  return running;
}

function stillRunning(app: ProcessHost, running: ReadonlyMap<string, LifecycleEvent>): string[] {
  return [...app.activity(), ...running.keys()];
}

/** Past the shutdown budget the process exits 1 whatever is still running, and says what that was. */
function armHardDeadline(app: ProcessHost, running: ReadonlyMap<string, LifecycleEvent>): void {
  const budget = app.settings()?.shutdownTimeout ?? DEFAULT_SHUTDOWN_TIMEOUT_MS;
  setTimeout(() => {
    const still = stillRunning(app, running);
    log(app, 'fatal', { state: app.state(), shutdownTimeoutMs: budget, stillRunning: still },
      `shutdown exceeded its ${budget} ms budget: exiting${still.length ? ` with ${still.join(', ')} still running` : ''}`);
    exit(EXIT_FAILURE);
  }, budget).unref();
}

const LEVELS = { fatal: 60, error: 50, warn: 40, info: 30 } as const;

/** Through the app's logger once it exists; before that, a JSON line of the same shape. */
function log(app: ProcessHost, level: keyof typeof LEVELS, fields: Record<string, unknown>, msg: string): void {
  const logger = app.logger();
  if (logger) {
    logger[level](fields, msg);
    return;
  }
  const { err, ...rest } = fields;
  const error = err instanceof Error ? { type: err.name, message: err.message, stack: err.stack } : err;
  process.stdout.write(`${JSON.stringify({ level: LEVELS[level], time: Date.now(), app: app.name, ...rest, ...(err === undefined ? {} : { err: error }), msg })}\n`);
}

async function exitAfterSteps(app: ProcessHost, code: number): Promise<never> {
  await app.runExitSteps();
  return exit(code);
}

function exit(code: number): never {
  process.exit(code);
}
