import type { SeverityLevel } from '@sentry/node';
import type { ErrorContext, LifecycleEvent, PluginHost, StateChange } from '@plinth/core';
import { captureReport } from './report-error.js';
import type { SentrySdk } from './sdk.js';

/** Runs `work` with the SDK: at once when it is loaded, else once it is. */
export type WithSdk = (work: (sdk: SentrySdk) => void) => void;

/** Outcomes worth a breadcrumb: what happened, not that a hook began. */
function breadcrumbLevel(event: LifecycleEvent): SeverityLevel | undefined {
  switch (event.outcome) {
    case 'begin':
      return undefined;
    case 'failed':
    case 'timedOut':
      return 'error';
    case 'retrying':
    case 'degraded':
    case 'skipped':
      return 'warning';
    default:
      return 'info';
  }
}

function lifecycleBreadcrumb(sdk: SentrySdk, event: LifecycleEvent): void {
  const level = breadcrumbLevel(event);
  if (level === undefined) return;
  sdk.addBreadcrumb({
    category: 'plinth.lifecycle',
    level,
    message: `${event.component} ${event.phase} ${event.outcome}${event.error ? `: ${event.error}` : ''}`,
    data: {
      component: event.component,
      ...(event.pluginType !== undefined && { pluginType: event.pluginType }),
      phase: event.phase,
      outcome: event.outcome,
      attempt: event.attempt,
      ...(event.durationMs !== undefined && { durationMs: Math.round(event.durationMs) }),
    },
  });
}

/**
 * State changes become breadcrumbs; turning degraded (a plugin unavailable) is also one
 * warning event, once per transition, however many reconnects follow.
 */
function stateChange(sdk: SentrySdk, change: StateChange): void {
  const recovered = change.from === 'degraded' && change.to === 'ready';
  sdk.addBreadcrumb({
    category: 'plinth.state',
    level: change.to === 'degraded' || change.to === 'failed' ? 'warning' : 'info',
    message: `${change.from} → ${change.to}${change.reason ? ` (${change.reason})` : ''}${recovered ? ': recovered' : ''}`,
    data: { from: change.from, to: change.to },
  });
  if (change.to === 'degraded' && change.from !== 'degraded') {
    sdk.withScope((scope) => {
      scope.setLevel('warning');
      scope.setTag('plinth.source', 'state');
      scope.setTag('plinth.state', 'degraded');
      const unavailable = /^unavailable: (.+)$/.exec(change.reason ?? '')?.[1];
      if (unavailable !== undefined) scope.setTag('plinth.unavailable', unavailable);
      sdk.captureMessage(`app degraded${change.reason ? `: ${change.reason}` : ''}`);
    });
  }
}

/**
 * Subscribes the SDK to the app: its error channel (5xx answers included, unless
 * `captureServerErrors` is off), lifecycle events and state changes. What arrives before the
 * SDK is loaded waits for it in order. Returns the unsubscribe.
 */
export function subscribeToApp(host: PluginHost, withSdk: WithSdk, options: { readonly captureServerErrors: boolean }): () => void {
  // Startup failures name the component only; its lifecycle events say what type it is.
  const pluginTypes = new Map<string, string>();
  const withPluginType = (context: ErrorContext): ErrorContext => {
    const pluginType = context.component !== undefined ? pluginTypes.get(context.component) : undefined;
    return context.pluginType === undefined && pluginType !== undefined ? { ...context, pluginType } : context;
  };
  const unsubscribe = [
    host.onError((error, context) => {
      if (context.source === 'http' && !options.captureServerErrors) return;
      const report = withPluginType(context);
      withSdk((sdk) => captureReport(sdk, error, report));
    }),
    host.onLifecycleEvent((event) => {
      if (event.pluginType !== undefined) pluginTypes.set(event.component, event.pluginType);
      withSdk((sdk) => lifecycleBreadcrumb(sdk, event));
    }),
    host.onStateChange((change) => withSdk((sdk) => stateChange(sdk, change))),
  ];
  return () => {
    for (const off of unsubscribe) off();
  };
}
