import type { Logger } from 'pino';
import type { AppHttp } from '../http/app-http.js';
import type { BoundedStep } from '../lifecycle/bounded-steps.js';
import type { AppState } from '../lifecycle/events.js';
import type { AppEventEmitter } from '../lifecycle/typed-emitter.js';
import type { AppEnvironment } from './environment.js';
import { createPluginMetrics, NO_PLUGIN_METRICS } from '../metrics/plugin-metrics.js';
import { BreakerBoard } from '../resilience/breaker-board.js';
import type { ErrorChannel } from './error-channel.js';
import { logLifecycleEvent } from './lifecycle-log.js';
import type { PluginServices } from './plugin-instances.js';
import type { ResolvedAppSettings } from './resolved-settings.js';
import { DEFAULT_STEP_TIMEOUT_MS, type PluginHost } from './plugin-host.js';

/** What the plugin-facing face of an app is made of. */
export interface PluginHostParts {
  readonly name: string;
  readonly version: string | undefined;
  readonly environment: AppEnvironment;
  readonly state: () => AppState;
  readonly signal: AbortSignal;
  readonly healthPath: string;
  readonly events: AppEventEmitter;
  readonly http: AppHttp;
  readonly errors: ErrorChannel;
  readonly redact: (text: string) => string;
  /** Run at the very start of shutdown. */
  readonly firstShutdownSteps: BoundedStep[];
  /** Run after the HTTP servers drained. */
  readonly shutdownSteps: BoundedStep[];
  readonly exitSteps: BoundedStep[];
}

export function buildPluginHost(parts: PluginHostParts): PluginHost {
  const { events, http, errors } = parts;
  return {
    name: parts.name,
    version: parts.version,
    production: parts.environment.production,
    environment: parts.environment.environment,
    get state() {
      return parts.state();
    },
    signal: parts.signal,
    healthPath: parts.healthPath,
    onStateChange: (listener) => events.on('state', listener),
    onLifecycleEvent: (listener) => events.on('lifecycle', listener),
    addShutdownStep: (run, options = {}) => {
      const step = { run, timeoutMs: options.timeoutMs ?? DEFAULT_STEP_TIMEOUT_MS };
      (options.first ? parts.firstShutdownSteps : parts.shutdownSteps).push(step);
    },
    httpAddress: () => http.address(),
    onListening: (listener) => http.onListening(listener),
    redact: parts.redact,
    reportError: (error, context) => errors.report(error, context),
    onError: (listener) => errors.on(listener),
    tolerateRejection: (matches, why) => errors.tolerate(matches, why),
    beforeExit: (run, options = {}) => {
      parts.exitSteps.push({ run, timeoutMs: options.timeoutMs ?? DEFAULT_STEP_TIMEOUT_MS });
    },
    onRequest: (listener) => http.onRequest(listener),
    addRequestHandler: (handler) => http.handlers.add(handler),
  };
}

/** What plugins get besides the host: their circuit breakers (seen by the health checks) and metrics. */
export function buildPluginServices(settings: ResolvedAppSettings, http: AppHttp, events: AppEventEmitter, logger: () => Logger | undefined): PluginServices {
  const breakers = new BreakerBoard(
    (event) => {
      events.emit('lifecycle', event);
      const current = logger();
      if (current) logLifecycleEvent(current, event);
    },
    () => http.health.invalidate(),
  );
  http.health.addKnownResults(() => breakers.results());
  // The registry is made by a plugin's first metric, not before.
  const metrics = settings.core.metrics ? (type: string, prefix: string) => createPluginMetrics(() => http.metrics, type, prefix) : () => NO_PLUGIN_METRICS;
  return { metrics, breakers };
}
