import type { NodeOptions } from '@sentry/node';
import { processState } from './process-state.js';
import type { SentrySdk } from './sdk.js';
import type { SentrySettings } from './settings.js';

/**
 * Left out of the defaults. The SDK's own process handlers would capture crashes a second
 * time (plinth reports them through its error channel) and may exit the process on their
 * own. Dedupe drops an event equal to the one before: plinth reports each failure once,
 * so what it would drop is a real repeat (a message failing again on its next attempt).
 */
const LEFT_OUT = new Set(['OnUncaughtException', 'OnUnhandledRejection', 'Dedupe']);

type Integration = Extract<NonNullable<NodeOptions['integrations']>, readonly unknown[]>[number];

/**
 * v11 collects much by default (headers, cookies, bodies, query values, local variables).
 * What could hold a secret or personal data is off; the scrubber is the second line.
 */
const DATA_COLLECTION: NonNullable<NodeOptions['dataCollection']> = {
  userInfo: false,
  cookies: false,
  httpHeaders: { request: { deny: ['authorization', 'proxy-authorization', 'cookie', 'x-api-key', 'x-auth-token'] }, response: false },
  httpBodies: [],
  urlQueryParams: false,
  databaseQueryData: false,
  queues: false,
  genAI: { inputs: false, outputs: false },
  mcp: { inputs: false, outputs: false },
  graphQL: { document: true, variables: false },
  stackFrameVariables: false,
};

/** `init` options from the settings: the same whether the preload or the plugin initialises. */
export function nodeOptions(sdk: SentrySdk, settings: SentrySettings & { readonly dsn: string }, extra: NodeOptions = {}): NodeOptions {
  const userIntegrations = extra.integrations;
  return {
    ...extra,
    dsn: settings.dsn,
    environment: settings.environment ?? extra.environment,
    release: settings.release ?? extra.release,
    sampleRate: settings.sampleRate,
    // Any tracesSampleRate (even 0) turns the tracing integrations on; 0 means off.
    tracesSampleRate: settings.tracesSampleRate > 0 ? settings.tracesSampleRate : undefined,
    debug: settings.debug,
    dataCollection: { ...DATA_COLLECTION, ...extra.dataCollection },
    integrations: (defaults: Integration[]) => {
      const kept = defaults.filter((integration) => !LEFT_OUT.has(integration.name) && integration.name !== 'Fastify');
      // Fastify spans stay; its 5xx errors come through plinth's report, tagged with the route.
      kept.push(sdk.fastifyIntegration({ shouldHandleError: () => false }));
      if (typeof userIntegrations === 'function') return userIntegrations(kept);
      return [...kept, ...(userIntegrations ?? [])];
    },
    ...processState().pipeline.sdkHooks(extra.traceLifecycle),
  };
}
