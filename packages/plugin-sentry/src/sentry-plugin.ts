import * as Sentry from '@sentry/node';
import { envName, type HealthCheck, type OnConfigChange, type OnStop, type PluginContext, type PreStart } from '@plinth/core';
import { subscribeToApp } from './app-hooks.js';
import type { UserHooks } from './pipeline.js';
import { processState } from './process-state.js';
import { nodeOptions } from './sdk-options.js';
import type { SentryConfig } from './settings.js';

/** Scope data for one capture: `{ tags, extra, level, user, fingerprint }` (Sentry's own type). */
export type CaptureContext = Sentry.CaptureContext;

/** Code-only options of `sentry(prefix, options)`. */
export interface SentryPluginOptions extends UserHooks {
  /**
   * More `Sentry.init` options (integrations, ignoreErrors…) used when the plugin
   * initialises the SDK itself. With the preload they are not seen: the SDK is already
   * running, configured from the settings.
   */
  readonly sdkOptions?: Omit<
    Sentry.NodeOptions,
    'dsn' | 'environment' | 'release' | 'sampleRate' | 'tracesSampleRate' | 'debug' | 'beforeSend' | 'beforeBreadcrumb'
  >;
  /**
   * Capture 5xx answers of the servers handed to `attachHttpServer`/`serveHttp`
   * (default true). Off when the HTTP framework's own Sentry handler already does.
   */
  readonly captureServerErrors?: boolean;
}

/** How the SDK came to run: the preload initialised it, the plugin did, or reporting is off. */
export type SentryMode = 'preload' | 'plugin' | 'off';

/**
 * The app's error tracker. Inject it with `@InjectPlugin('error_tracking')`. Every method
 * is a no-op returning `undefined` while reporting is off (no DSN).
 */
export class SentryPlugin implements PreStart, OnStop, HealthCheck, OnConfigChange<SentryConfig> {
  readonly mode: SentryMode;
  /** The raw SDK (`@sentry/node`), for anything this facade does not cover. */
  readonly sdk: typeof Sentry = Sentry;
  readonly #ctx: PluginContext<SentryConfig, SentryPluginOptions>;
  #unsubscribe: (() => void) | undefined;
  #closed = false;
  /** Why the last event could not be delivered; undefined once one is. */
  #lastSendFailure: string | undefined;

  constructor(ctx: PluginContext<SentryConfig, SentryPluginOptions>) {
    this.#ctx = ctx;
    const { config, options, app } = ctx;
    const state = processState();
    state.pipeline.attach(app.redact.bind(app), { beforeSend: options.beforeSend, beforeBreadcrumb: options.beforeBreadcrumb });

    const preloaded = state.preload !== undefined && Sentry.getClient() !== undefined;
    if (preloaded) {
      this.mode = 'preload';
    } else if (config.dsn !== undefined) {
      Sentry.init(nodeOptions({ ...config, dsn: config.dsn }, { ...options.sdkOptions }));
      this.mode = 'plugin';
    } else {
      this.mode = 'off';
      return;
    }
    this.#describeApp();
    this.#watchDelivery();
    this.#unsubscribe = subscribeToApp(app, { captureServerErrors: options.captureServerErrors ?? true });
    app.beforeExit(() => this.#flush(), { timeoutMs: config.flushTimeout + 100 });
  }

  /** True when events are sent (a DSN is configured). */
  get enabled(): boolean {
    return this.mode !== 'off';
  }

  /** A reload changed SAMPLE_RATE: the SDK reads it from its options for every event. */
  onConfigChange(next: SentryConfig): void {
    const options = this.client?.getOptions();
    if (options) options.sampleRate = next.sampleRate;
  }

  /** The SDK's client, or undefined while reporting is off. */
  get client(): Sentry.NodeClient | undefined {
    return this.enabled ? Sentry.getClient<Sentry.NodeClient>() : undefined;
  }

  /** Reports an error the service handled. Returns the event id. */
  captureException(error: unknown, context?: CaptureContext): string | undefined {
    return this.enabled ? Sentry.captureException(error, context) : undefined;
  }

  captureMessage(message: string, levelOrContext?: Sentry.SeverityLevel | CaptureContext): string | undefined {
    return this.enabled ? Sentry.captureMessage(message, levelOrContext) : undefined;
  }

  /** Runs `callback` with a scope of its own: tags and context set on it apply to captures inside only. */
  withScope<T>(callback: (scope: Sentry.Scope) => T): T {
    return Sentry.withScope(callback);
  }

  /** Sets the user on the current request's scope (the isolation scope the SDK forks per request). */
  setUser(user: Sentry.User | null): void {
    if (this.enabled) Sentry.setUser(user);
  }

  /** Sets a tag on the current request's scope. */
  setTag(key: string, value: string | number | boolean | undefined): void {
    if (this.enabled) Sentry.setTag(key, value);
  }

  preStart(): void {
    const { logger, appName, prefix, config } = this.#ctx;
    const state = processState();
    if (this.mode === 'off') {
      logger.info(`error reporting off: set ${envName(appName, prefix, 'dsn')} to send errors to Sentry`);
      return;
    }
    const fields = { mode: this.mode, sampleRate: config.sampleRate, tracesSampleRate: config.tracesSampleRate };
    if (this.mode === 'preload' && (state.preload?.app !== appName || state.preload.prefix !== prefix)) {
      logger.warn({ ...fields, preload: state.preload }, 'the Sentry preload read the settings of another app or prefix; using its client');
    }
    logger.info(fields, 'error reporting on');
    if (this.mode === 'plugin' && !state.warnedNoPreload) {
      state.warnedNoPreload = true;
      logger.info(
        'Sentry initialised by the plugin, after the app\'s modules loaded: their auto-instrumentation (spans for HTTP, PostgreSQL, Redis, AMQP) is unavailable; ' +
          'start with `node --import @plinth/plugin-sentry/preload` and PLINTH_SENTRY_APP to get it',
      );
    }
  }

  /** Runs after every other component stopped, so their failures are in; then sends and closes within FLUSH_TIMEOUT. */
  async onStop(): Promise<void> {
    if (this.mode === 'off' || this.#closed) return;
    if (this.#ctx.app.state === 'starting') {
      // A failed startup rolling back: its report comes after this, so the client stays
      // open; the process runner's beforeExit step sends it before the exit.
      return;
    }
    this.#unsubscribe?.();
    this.#closed = true;
    // close() never throws, and resolves false at the timeout when the endpoint hangs.
    await Sentry.close(this.#ctx.config.flushTimeout);
  }

  /** Down while the last event could not be delivered (the endpoint refused, failed or answered an error). */
  healthCheck(): void {
    if (this.#lastSendFailure !== undefined) throw new Error(`last Sentry event not delivered: ${this.#lastSendFailure}`);
  }

  #watchDelivery(): void {
    Sentry.getClient()?.on('afterSendEvent', (_event, response) => {
      const status = response.statusCode;
      this.#lastSendFailure = status !== undefined && status >= 200 && status < 300 ? undefined : status === undefined ? 'no response' : `status ${status}`;
    });
  }

  async #flush(): Promise<void> {
    if (!this.#closed) await Sentry.flush(this.#ctx.config.flushTimeout);
  }

  /** Environment and release default to the app's; the preload could not know them. */
  #describeApp(): void {
    const { app, config } = this.#ctx;
    const options = Sentry.getClient()?.getOptions();
    if (options !== undefined) {
      options.environment = config.environment ?? options.environment ?? app.environment;
      options.release = config.release ?? options.release ?? app.version;
    }
    Sentry.getGlobalScope().setTag('app', app.name);
  }
}
