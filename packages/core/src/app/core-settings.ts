import { setting } from '../config/setting.js';
import { allowEnvSetting } from '../config/unknown-variables.js';
import { LOG_LEVELS } from '../logging/logger.js';

/** On Kubernetes, give endpoints time to drop this pod before it stops listening. */
const ON_KUBERNETES = process.env['KUBERNETES_SERVICE_HOST'] !== undefined;

/** Settings every app has, read from `{APP}_{SETTING}`. */
export const coreSettings = {
  logLevel: setting.oneOf(LOG_LEVELS, { doc: 'Log level (reloadable)', default: 'info', reloadable: true }),
  shutdownDelay: setting.duration({
    doc: 'How long to keep serving after SIGTERM with readiness at 503, so load balancers stop routing here (ms; default 5000 on Kubernetes, else 0)',
    default: ON_KUBERNETES ? 5000 : 0,
  }),
  shutdownTimeout: setting.duration({
    doc: 'Hard deadline for the whole shutdown; past it the process exits 1 (ms). Keep it below terminationGracePeriodSeconds',
    default: 25_000,
  }),
  shutdownDrainTimeout: setting.duration({
    doc: 'How long in-flight HTTP requests may take to finish once the servers stop listening; then their connections are closed (ms)',
    default: 10_000,
  }),
  healthPort: setting.portOrZero({
    doc: 'Port of the dedicated health and metrics server that `run()` opens before startup (0 turns it off)',
    default: 8081,
  }),
  healthHost: setting.string({
    doc: 'Address the health server listens on (default: the app\'s own httpHost setting if it has one, else 0.0.0.0 on Kubernetes and 127.0.0.1 elsewhere)',
  }),
  healthPath: setting.string({ doc: 'Route prefix of the health endpoints', default: '/health' }),
  healthDetails: setting.oneOf(['never', 'always'], {
    doc: 'Whether /health shows failure details (error messages) to unauthenticated callers',
    default: 'never',
  }),
  healthToken: setting.string({
    doc: 'A bearer token that unlocks failure details on /health (Authorization: Bearer <token>)',
    sensitive: true,
  }),
  healthCacheTtl: setting.duration({ doc: 'How long a health check result is reused by later probes (ms)', default: 1000 }),
  healthInterval: setting.duration({
    doc: 'How often checks also run in the background while probes are served, so logs and metrics follow dependencies (ms; 0 turns it off)',
    default: 10_000,
  }),
  metrics: setting.boolean({
    doc: 'Record plugin, breaker and HTTP metrics (false: only the lifecycle, health and process metrics, e.g. to measure their cost)',
    default: true,
  }),
  metricsPath: setting.string({ doc: 'Path of the Prometheus metrics endpoint (empty turns it off)', default: '/metrics' }),
  env: setting.nonEmptyString({
    doc: 'Name of the environment: development, staging, production… production (like NODE_ENV=production or a Kubernetes pod) makes a plugin without a server a config error unless its EMBEDDED setting is true',
  }),
  allowEnv: allowEnvSetting,
  httpRequestTimeout: setting.duration({
    doc: 'Attached HTTP servers: a request whose headers and body have not all arrived after this long gets 408 and its connection is closed (ms; 0 turns it off)',
    default: 30_000,
  }),
  httpHeadersTimeout: setting.duration({
    doc: 'Attached HTTP servers: how long the request headers may take to arrive (ms; at most HTTP_REQUEST_TIMEOUT)',
    default: 10_000,
  }),
  httpKeepAliveTimeout: setting.duration({
    doc: 'Attached HTTP servers: how long an idle kept-alive connection stays open (ms). Behind a load balancer, keep it above the balancer idle timeout',
    default: 5_000,
  }),
  handlersDir: setting.string({
    doc: 'A directory of request-handler plugin modules loaded at start (each file or package is one plugin, its prefix taken from its name)',
  }),
  envFile: setting.string({
    doc: 'A .env file read at start and on every reload (SIGHUP); its variables override the process env',
  }),
  logRedact: setting.string({
    doc: 'Log paths to censor besides the defaults (credentials, cookies, request bodies, email, phone, address), comma-separated in pino redact syntax, e.g. user.name,*.ssn',
    default: '',
  }),
} as const;

export type CoreSettingKey = keyof typeof coreSettings;

/** Settings each plugin instance has besides its own, read from `{APP}_{PREFIX}_{SETTING}`. */
export function pluginLifecycleSettings(defaults: {
  critical: boolean;
  startTimeout: number;
  onStartTimeout: number;
  stopTimeout: number;
  healthTimeout: number;
}) {
  return {
    critical: setting.boolean({
      doc: 'Critical: startup fails and readiness drops when it is down. Non-critical: the app runs degraded',
      default: defaults.critical,
    }),
    startTimeout: setting.duration({ doc: 'Deadline of preStart (connect, verify, migrate), retries included (ms)', default: defaults.startTimeout }),
    onStartTimeout: setting.duration({ doc: 'Deadline of onStart (ms)', default: defaults.onStartTimeout }),
    stopTimeout: setting.duration({ doc: 'Deadline of onStop (ms)', default: defaults.stopTimeout }),
    healthTimeout: setting.duration({ doc: 'Timeout of one health check (ms)', default: defaults.healthTimeout }),
    module: setting.string({
      doc: 'A module to load this plugin\'s implementation from instead of the built-in one: a package name or a path, optionally #export (default export otherwise); it must be a plugin of the same type',
    }),
  } as const;
}

/** The setting an optional plugin instance has: `{APP}_{PREFIX}_ENABLED`. */
export function enabledSetting(enabled: boolean) {
  return setting.boolean({
    doc: 'Whether this optional plugin runs; false gives its no-op implementation, connects nothing and shows it as disabled in /health',
    default: enabled,
  });
}
