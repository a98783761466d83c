import type { AppState, LifecycleEvent, StateChange } from '../lifecycle/events.js';
import type { Step } from '../lifecycle/bounded-steps.js';
import type { RequestHandler } from '../http/request-handler.js';
import type { ErrorContext } from './error-channel.js';

/** Where an HTTP server of the app listens: the real port, even when 0 was asked for. */
export interface HttpAddress {
  readonly host: string;
  readonly port: number;
}

/** One finished request of an attached or served HTTP server. */
export interface RequestRecord {
  readonly method: string;
  /** The route template when the server knows it (fastify), never the raw path. */
  readonly route: string | undefined;
  readonly statusCode: number;
  readonly durationMs: number;
  /** The error behind a 5xx when the framework hands it over (fastify). */
  readonly error?: unknown;
}

export interface ShutdownStepOptions {
  /** Run at the very start of shutdown, before the shutdown delay and any drain (concurrently with other first steps). */
  readonly first?: boolean;
  /** Default 2000; the step's signal aborts then and shutdown goes on. */
  readonly timeoutMs?: number;
}

/** The app as a plugin sees it (`ctx.app`): its identity, state, events, HTTP address and error channel. */
export interface PluginHost {
  readonly name: string;
  /** `createApp({ version })`. */
  readonly version: string | undefined;
  /** NODE_ENV=production, a Kubernetes pod, or `{APP}_ENV=production`. */
  readonly production: boolean;
  /** `{APP}_ENV`; by default `production` in production, else `development`. */
  readonly environment: string;
  readonly state: AppState;
  /** Aborts when shutdown begins. */
  readonly signal: AbortSignal;
  /** Route prefix of the probes: readiness is `${healthPath}/ready`. */
  readonly healthPath: string;

  onStateChange(listener: (change: StateChange) => void): () => void;
  onLifecycleEvent(listener: (event: LifecycleEvent) => void): () => void;

  /**
   * A step run when shutdown begins. With `first: true` it runs at the very start, before the
   * shutdown delay and before any server drains (deregistration from service discovery);
   * otherwise after the HTTP servers have drained, before components stop. Each step is
   * bounded by `timeoutMs` (default 2000).
   */
  addShutdownStep(step: Step, options?: ShutdownStepOptions): void;

  /** Where the app's HTTP server listens (the first attached or served, else the health server); undefined until one does. */
  httpAddress(): HttpAddress | undefined;
  /** Called once per server when it starts listening (at once for servers already listening). */
  onListening(listener: (address: HttpAddress) => void): () => void;

  /** Hides every sensitive setting value the app knows (all plugins and the app) and URL passwords. */
  redact(text: string): string;

  /** Reports a failure a component handled; every `onError` listener receives it. */
  reportError(error: unknown, context: ErrorContext): void;
  /** Receives every reported error: the app's own (startup, deadlines, onStop, crashes, 5xx) and the components'. */
  onError(listener: (error: unknown, context: ErrorContext) => void): () => void;
  /**
   * Marks rejections that `matches` recognises as a known defect of a driver the plugin wraps:
   * a promise the driver creates for itself, never hands out and never handles. Under `app.run()`
   * such a rejection is logged as a warning with `why` instead of stopping the process. Match
   * narrowly: every other unhandled rejection still stops the app and exits 1.
   */
  tolerateRejection(matches: (reason: unknown) => boolean, why: string): void;

  /** Work the process runner awaits before it exits (flush an error tracker). Bounded by `timeoutMs` (default 2000). */
  beforeExit(step: Step, options?: { readonly timeoutMs?: number }): void;

  /** Every finished request of an attached or served HTTP server. */
  onRequest(listener: (request: RequestRecord) => void): () => void;

  /**
   * Runs `handler` on every request of every attached or served server, after the probes
   * and `/metrics` and before the service's routes, ordered by `priority` (lower first).
   */
  addRequestHandler(handler: RequestHandler): void;
}

export const DEFAULT_STEP_TIMEOUT_MS = 2000;
