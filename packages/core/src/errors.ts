/** Base class of every error plinth raises, so callers can tell ours from theirs. */
export class PlinthError extends Error {
  override readonly name: string = 'PlinthError';
}

export type GraphErrorCode =
  | 'DUPLICATE_PREFIX'
  | 'INVALID_PREFIX'
  | 'UNKNOWN_PLUGIN'
  | 'MISSING_SERVICE'
  | 'MISSING_INJECTION'
  | 'NOT_A_SERVICE'
  | 'DEPENDENCY_CYCLE'
  | 'ENV_NAME_CLASH';

/** A mistake in how the app is declared: found before any I/O. */
export class GraphValidationError extends PlinthError {
  override readonly name = 'GraphValidationError';
  constructor(
    readonly code: GraphErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export interface ConfigProblem {
  /** The env var to fix, e.g. `USER_SERVICE_PRIMARY_DB_PORT`. */
  readonly env: string;
  /** What was wrong, with the value masked when the setting is sensitive. */
  readonly message: string;
}

/** Bad configuration. Lists every problem at once; a process exits with 78 (EX_CONFIG). */
export class ConfigError extends PlinthError {
  override readonly name = 'ConfigError';
  readonly exitCode = 78;
  constructor(
    readonly appName: string,
    readonly problems: readonly ConfigProblem[],
  ) {
    const noun = problems.length === 1 ? 'problem' : 'problems';
    super(
      `Invalid configuration for ${appName} (${problems.length} ${noun}):\n` +
        problems.map((p) => `  - ${p.message}`).join('\n'),
    );
  }
}

/** A lifecycle hook outlived its deadline. */
export class HookTimeoutError extends PlinthError {
  override readonly name = 'HookTimeoutError';
  constructor(
    readonly component: string,
    readonly phase: string,
    readonly timeoutMs: number,
  ) {
    super(`${component} ${phase} did not finish within its ${timeoutMs} ms deadline`);
  }
}

/** Startup was abandoned because stop() was called or a signal arrived. */
export class StartupAbortedError extends PlinthError {
  override readonly name = 'StartupAbortedError';
  constructor(reason: string) {
    super(`startup aborted: ${reason}`);
  }
}

/** A critical component failed to start; the app rolled back what it had started. */
export class StartupError extends PlinthError {
  override readonly name = 'StartupError';
  constructor(
    message: string,
    readonly component: string,
    readonly phase: string,
    readonly attempts: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/**
 * Thrown by a plugin call while the plugin is unavailable (not connected yet, or its
 * dependency is down), so callers fail fast and can fall back instead of hanging.
 */
export class PluginUnavailableError extends PlinthError {
  override readonly name = 'PluginUnavailableError';
  constructor(
    readonly pluginType: string,
    readonly prefix: string,
    readonly reason?: string,
  ) {
    super(`${pluginType} plugin "${prefix}" is unavailable${reason ? `: ${reason}` : ''}`);
  }
}

/**
 * Thrown by a preStart when trying again cannot help (a wrong password, a migration with a
 * syntax error): a critical component fails at once instead of retrying until its
 * deadline. Background recovery of a non-critical plugin still retries, with its long
 * backoff, since nothing else would bring the plugin back.
 */
export class NonRetryableError extends PlinthError {
  override readonly name = 'NonRetryableError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}
