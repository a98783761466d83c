/**
 * Errors carry a brand, `Symbol.for('plinth.error.<Name>')`, for their class and each class
 * above it, so `ConfigError.is(error)` recognises an error thrown by another copy of
 * `@plinth/core` in the same process, where `instanceof` would not.
 */
type ErrorClass<T extends PlinthError> = (abstract new (...args: never[]) => T) & { readonly brand: symbol };

function brandOf(name: string): symbol {
  return Symbol.for(`plinth.error.${name}`);
}

/** Base class of every error plinth raises, so callers can tell ours from theirs. */
export class PlinthError extends Error {
  static readonly brand: symbol = brandOf('PlinthError');
  override readonly name: string = 'PlinthError';

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    for (let type: unknown = new.target; typeof type === 'function' && type !== Error; type = Object.getPrototypeOf(type)) {
      if (Object.hasOwn(type, 'brand')) Object.defineProperty(this, (type as unknown as { brand: symbol }).brand, { value: true });
    }
  }

  /** True for an error of this class (or a subclass), whichever copy of plinth made it. */
  static is<T extends PlinthError>(this: ErrorClass<T>, value: unknown): value is T {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[this.brand] === true;
  }
}

export type GraphErrorCode =
  | 'DUPLICATE_PREFIX'
  | 'INVALID_PREFIX'
  | 'UNKNOWN_PLUGIN'
  | 'MISSING_SERVICE'
  | 'MISSING_INJECTION'
  | 'NOT_A_SERVICE'
  | 'DEPENDENCY_CYCLE'
  | 'ENV_NAME_CLASH'
  | 'NOT_OPTIONAL';

/** A mistake in how the app is declared: found before any I/O. */
export class GraphValidationError extends PlinthError {
  static override readonly brand: symbol = brandOf('GraphValidationError');
  override readonly name = 'GraphValidationError';
  constructor(
    readonly code: GraphErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
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
  static override readonly brand: symbol = brandOf('ConfigError');
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
  static override readonly brand: symbol = brandOf('HookTimeoutError');
  override readonly name = 'HookTimeoutError';
  constructor(
    readonly component: string,
    readonly phase: string,
    readonly timeoutMs: number,
  ) {
    super(`${component} ${phase} did not finish within its ${timeoutMs} ms deadline`);
  }
}

/** An operation given to `withTimeout` got no answer in time. */
export class OperationTimeoutError extends PlinthError {
  static override readonly brand: symbol = brandOf('OperationTimeoutError');
  override readonly name = 'OperationTimeoutError';
  constructor(readonly timeoutMs: number) {
    super(`no answer within ${timeoutMs} ms`);
  }
}

/** A call refused at once because its circuit breaker is open (the dependency is slow or failing). */
export class BreakerOpenError extends PlinthError {
  static override readonly brand: symbol = brandOf('BreakerOpenError');
  override readonly name = 'BreakerOpenError';
  constructor(readonly breaker: string) {
    super(`${breaker}: circuit breaker open, call refused`);
  }
}

/** Startup was abandoned because stop() was called or a signal arrived. */
export class StartupAbortedError extends PlinthError {
  static override readonly brand: symbol = brandOf('StartupAbortedError');
  override readonly name = 'StartupAbortedError';
  constructor(reason: string) {
    super(`startup aborted: ${reason}`);
  }
}

/** A critical component failed to start; the app rolled back what it had started. `cause` is the component's error. */
export class StartupError extends PlinthError {
  static override readonly brand: symbol = brandOf('StartupError');
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
  static override readonly brand: symbol = brandOf('PluginUnavailableError');
  override readonly name = 'PluginUnavailableError';
  constructor(
    readonly pluginType: string,
    readonly prefix: string,
    readonly reason?: string,
    options?: { cause?: unknown },
  ) {
    super(`${pluginType} plugin "${prefix}" is unavailable${reason ? `: ${reason}` : ''}`, options);
  }
}

/**
 * Thrown by a preStart when trying again cannot help (a wrong password, a migration with a
 * syntax error): a critical component fails at once instead of retrying until its
 * deadline. Background recovery of a non-critical plugin still retries, with its long
 * backoff, since nothing else would bring the plugin back.
 */
export class NonRetryableError extends PlinthError {
  static override readonly brand: symbol = brandOf('NonRetryableError');
  override readonly name = 'NonRetryableError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}
