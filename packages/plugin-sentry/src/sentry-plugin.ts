import type * as Sentry from '@sentry/node';
import { envName, messageOf, type HealthCheck, type HookContext, type OnSettingsChange, type OnStop, type PluginContext, type PreStart } from '@plinth/core';
import { subscribeToApp } from './app-hooks.js';
import { NOOP_SCOPE, type CaptureScope } from './capture-scope.js';
import type { UserHooks } from './pipeline.js';
import { processState } from './process-state.js';
import { importSdk, type SentrySdk } from './sdk.js';
import { nodeOptions } from './sdk-options.js';
import type { SentrySettings } from './settings.js';

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

/** How the SDK came to run: the preload initialised it, the plugin does, or reporting is off. */
export type SentryMode = 'preload' | 'plugin' | 'off';

/**
 * The app's error tracker. Inject it with `@InjectPlugin('error_tracking')`. `@sentry/node`
 * is loaded only when reporting is on; every method is a no-op returning `undefined` while
 * it is off (no DSN) or not loaded yet.
 */
export class SentryPlugin implements PreStart, OnStop, HealthCheck, OnSettingsChange<SentrySettings> {
  readonly mode: SentryMode;
  readonly #ctx: PluginContext<SentrySettings, SentryPluginOptions>;
  #sdk: SentrySdk | undefined;
  /** Plugin mode: the import and `init`, begun by the start step or by the first report before it. */
  #loading: Promise<void> | undefined;
  #loadFailure: unknown;
  /** What the app reported before the SDK was loaded, in order; undefined once it is (or failed to load). */
  #waiting: ((sdk: SentrySdk) => void)[] | undefined = [];
  #unsubscribe: (() => void) | undefined;
  #closed = false;
  /** Why the last event could not be delivered; undefined once one is. */
  #lastSendFailure: string | undefined;

  /** `turnedOff`: the declaration is turned off at deploy time; off even when the preload initialised the SDK. */
  constructor(ctx: PluginContext<SentrySettings, SentryPluginOptions>, turnedOff = false) {
    this.#ctx = ctx;
    const { settings, options, app } = ctx;
    const state = processState();
    state.pipeline.attach(app.redact.bind(app), { beforeSend: options.beforeSend, beforeBreadcrumb: options.beforeBreadcrumb });

    const preloaded = turnedOff ? undefined : state.preload?.sdk;
    if (preloaded?.getClient() !== undefined) {
      this.mode = 'preload';
      this.#attach(preloaded);
    } else if (settings.dsn !== undefined && !turnedOff) {
      this.mode = 'plugin';
    } else {
      this.mode = 'off';
      this.#waiting = undefined;
      return;
    }
    this.#unsubscribe = subscribeToApp(app, (work) => this.#withSdk(work), { captureServerErrors: options.captureServerErrors ?? true });
    app.beforeExit(() => this.#flush(), { timeoutMs: settings.flushTimeout + 100 });
  }

  /** True when events are sent (a DSN is configured). */
  get enabled(): boolean {
    return this.mode !== 'off';
  }

  /**
   * The raw SDK (`@sentry/node`), for anything this facade does not cover. `undefined` while
   * reporting is off; with the preload it is there at once, else once this plugin has
   * started (before every other component).
   */
  get sdk(): SentrySdk | undefined {
    return this.#sdk;
  }

  /** A reload changed SAMPLE_RATE: the SDK reads it from its options for every event. */
  onSettingsChange(next: SentrySettings): void {
    const options = this.client?.getOptions();
    if (options) options.sampleRate = next.sampleRate;
  }

  /** The SDK's client, or undefined while reporting is off. */
  get client(): Sentry.NodeClient | undefined {
    return this.#sdk?.getClient<Sentry.NodeClient>();
  }

  /** Reports an error the service handled. Returns the event id. */
  captureException(error: unknown, context?: CaptureContext): string | undefined {
    return this.#sdk?.captureException(error, context);
  }

  captureMessage(message: string, levelOrContext?: Sentry.SeverityLevel | CaptureContext): string | undefined {
    return this.#sdk?.captureMessage(message, levelOrContext);
  }

  /** Runs `callback` with a scope of its own: tags and context set on it apply to captures inside only. */
  withScope<T>(callback: (scope: CaptureScope) => T): T {
    return this.#sdk ? this.#sdk.withScope(callback) : callback(NOOP_SCOPE);
  }

  /** Sets the user on the current request's scope (the isolation scope the SDK forks per request). */
  setUser(user: Sentry.User | null): void {
    this.#sdk?.setUser(user);
  }

  /** Sets a tag on the current request's scope. */
  setTag(key: string, value: string | number | boolean | undefined): void {
    this.#sdk?.setTag(key, value);
  }

  /**
   * Loads and initialises the SDK when this plugin does (plugin mode); it starts before every
   * other component. Past its deadline startup goes on without waiting: reports wait for the SDK.
   */
  async preStart({ signal }: HookContext): Promise<void> {
    const { logger, appName, prefix, settings } = this.#ctx;
    const state = processState();
    if (this.mode === 'off') {
      logger.info(`error reporting off: set ${envName(appName, prefix, 'dsn')} to send errors to Sentry`);
      return;
    }
    if (!(await settledBefore(this.#load(), signal))) {
      logger.warn('the Sentry SDK is still loading at the start deadline: startup goes on, and what the app reports is sent once it is loaded');
    } else if (this.#sdk === undefined) {
      throw new Error(`@sentry/node could not be loaded: ${messageOf(this.#loadFailure)}`, { cause: this.#loadFailure });
    }
    const fields = { mode: this.mode, sampleRate: settings.sampleRate, tracesSampleRate: settings.tracesSampleRate };
    if (this.mode === 'preload' && (state.preload?.app !== appName || state.preload.prefix !== prefix)) {
      logger.warn({ ...fields, preload: state.preload && { app: state.preload.app, prefix: state.preload.prefix } }, 'the Sentry preload read the settings of another app or prefix; using its client');
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
    await this.#sdk?.close(this.#ctx.settings.flushTimeout);
  }

  /** Down while the last event could not be delivered (the endpoint refused, failed or answered an error). */
  healthCheck(): void {
    if (this.#lastSendFailure !== undefined) throw new Error(`last Sentry event not delivered: ${this.#lastSendFailure}`);
  }

  #withSdk(work: (sdk: SentrySdk) => void): void {
    if (this.#sdk !== undefined) {
      work(this.#sdk);
    } else if (this.#waiting !== undefined) {
      this.#waiting.push(work);
      // A failure reported before this plugin's start step (a startup step of the app) still gets sent.
      void this.#load();
    }
  }

  /** Imports and initialises the SDK once; never rejects (a failure is kept for preStart to throw). */
  #load(): Promise<void> {
    if (this.#sdk !== undefined) return Promise.resolve();
    this.#loading ??= importSdk().then(
      (sdk) => {
        // Stopped while it loaded: nothing is left to report, so no client is made.
        if (this.#closed) {
          this.#waiting = undefined;
          return;
        }
        const { settings, options } = this.#ctx;
        sdk.init(nodeOptions(sdk, { ...settings, dsn: settings.dsn as string }, { ...options.sdkOptions }));
        this.#attach(sdk);
      },
      (error: unknown) => {
        this.#loadFailure = error;
        this.#waiting = undefined;
      },
    );
    return this.#loading;
  }

  #attach(sdk: SentrySdk): void {
    this.#sdk = sdk;
    this.#describeApp(sdk);
    this.#watchDelivery(sdk);
    const waiting = this.#waiting ?? [];
    this.#waiting = undefined;
    for (const work of waiting) work(sdk);
  }

  #watchDelivery(sdk: SentrySdk): void {
    sdk.getClient()?.on('afterSendEvent', (_event, response) => {
      const status = response.statusCode;
      this.#lastSendFailure = status !== undefined && status >= 200 && status < 300 ? undefined : status === undefined ? 'no response' : `status ${status}`;
    });
  }

  async #flush(): Promise<void> {
    await this.#loading;
    if (!this.#closed) await this.#sdk?.flush(this.#ctx.settings.flushTimeout);
  }

  /** Environment and release default to the app's; the preload could not know them. */
  #describeApp(sdk: SentrySdk): void {
    const { app, settings } = this.#ctx;
    const options = sdk.getClient()?.getOptions();
    if (options !== undefined) {
      options.environment = settings.environment ?? options.environment ?? app.environment;
      options.release = settings.release ?? options.release ?? app.version;
    }
    sdk.getGlobalScope().setTag('app', app.name);
  }
}

/** True when `work` (which never rejects) settles before `signal` aborts; leaves no listener behind. */
function settledBefore(work: Promise<void>, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const aborted = (): void => resolve(false);
    signal.addEventListener('abort', aborted, { once: true });
    void work.then(() => {
      signal.removeEventListener('abort', aborted);
      resolve(true);
    });
  });
}
