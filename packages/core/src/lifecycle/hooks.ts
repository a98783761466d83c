/** What every lifecycle hook receives. */
export interface HookContext {
  /** Aborts at this hook's deadline, or when startup is abandoned. Pass it to I/O. */
  readonly signal: AbortSignal;
  /** Aborts when the app begins shutting down. Tie detached background work to it. */
  readonly appSignal: AbortSignal;
  /** 1 on the first try; higher when a critical preStart is retried. */
  readonly attempt: number;
}

/** Acquire resources: connect, verify, migrate. Bounded by a deadline; retried when critical. */
export interface PreStart {
  preStart(ctx: HookContext): Promise<void> | void;
}

/** Start background work (consumers, listeners, timers). Return promptly. */
export interface OnStart {
  onStart(ctx: HookContext): Promise<void> | void;
}

/** Release gracefully within the deadline. Runs only if preStart succeeded. */
export interface OnStop {
  onStop(ctx: HookContext): Promise<void> | void;
}

export interface HealthCheckContext {
  /** Aborts at the check's timeout; a check that ignores it is reported down anyway. */
  readonly signal: AbortSignal;
}

/** Reports whether a dependency works: resolve for up, throw for down. */
export interface HealthCheck {
  healthCheck(ctx: HealthCheckContext): Promise<void> | void;
}

/**
 * Optional on plugin instances: where the plugin connects (`host:port/db`, never with a
 * password). plinth names it in startup errors and lifecycle logs.
 */
export interface PluginTarget {
  readonly target: string;
}

/**
 * A plugin whose settings include `reloadable` ones: on SIGHUP or `app.reload()`, once the
 * whole new config is valid, it gets its new and previous settings. Only reloadable
 * settings differ between the two; other changes wait for a restart.
 */
export interface OnSettingsChange<TSettings = Readonly<Record<string, unknown>>> {
  onSettingsChange(next: TSettings, previous: TSettings): void | Promise<void>;
}
