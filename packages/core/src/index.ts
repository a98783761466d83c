import 'reflect-metadata';

export { createApp } from './app/create-app.js';
export { App, type AppOptions, type CoreConfig, type ShutdownStep, type StartupStep } from './app/app.js';
export { EXIT_CONFIG, EXIT_FAILURE, EXIT_OK, type RunOptions } from './app/run-process.js';
export type { ComponentSummary } from './app/startup-summary.js';
export type { HttpAddress, PluginHost, RequestRecord, ShutdownStepOptions } from './app/plugin-host.js';
export type { ErrorContext } from './app/error-channel.js';

export { Service } from './decorators/service.js';
export { InjectPlugin } from './decorators/inject-plugin.js';
export { Inject } from './decorators/inject.js';
export type { InjectionToken, ServiceOptions } from './internal/injection-metadata.js';
export { APP, APP_SETTINGS, LOGGER, lazy, pluginToken, type LazyToken } from './tokens.js';

export {
  definePlugin,
  type CommonPluginOptions,
  type PluginContext,
  type PluginDeclaration,
  type PluginDefinition,
  type PluginDouble,
  type PluginFactory,
} from './plugin/define-plugin.js';
export { PluginAvailability } from './plugin/plugin-availability.js';
export type { PluginOf, PluginPrefix, PluginRegistry } from './plugin/plugin-registry.js';

export { setting, type ConfigOf, type Setting, type SettingInit, type SettingsSchema } from './config/setting.js';
export { formats, type SettingFormat } from './config/formats.js';
export { formatConfigHelp, type ConfigEntry } from './config/describe-config.js';
export { envName, toEnvSegment } from './config/env-names.js';
export { isProduction, environmentName } from './config/environment.js';
export type { EmbeddedFallback } from './config/embedded.js';
export type { SettingProblem } from './config/setting.js';

export type { HealthCheck, HealthCheckContext, HookContext, OnStart, OnStop, PluginTarget, PreStart } from './lifecycle/hooks.js';
export type { AppState, LifecycleEvent, LifecycleOutcome, LifecyclePhase, StateChange } from './lifecycle/events.js';
export type { AppEvents } from './lifecycle/typed-emitter.js';
export type { BackoffOptions, StopReport } from './lifecycle/orchestrator.js';
export type { HookTimeouts, LifecycleComponent } from './lifecycle/component.js';
export { withDeadline, raceAbort } from './lifecycle/deadline.js';
export { Backoff, backoffDelay, sleep } from './lifecycle/backoff.js';
export type { Logger } from './logging/logger.js';

export { HealthMonitor } from './health/health-monitor.js';
export { serveHealth, type HealthServer, type HealthServerApp, type ServeHealthOptions } from './health/health-server.js';
export { isReady, type CheckResult, type CheckResults, type HealthReport, type HealthStatus, type ProbeAnswer } from './health/health-report.js';
export type { AttachHttpServerOptions, HttpServerSource } from './http/attached-server.js';
export type { ServeHttpOptions } from './http/serve-http.js';
export { ConnectionTracker } from './http/connection-tracker.js';
export { drainHttpServer, type DrainOptions, type DrainReport } from './http/drain-server.js';

export {
  ConfigError,
  GraphValidationError,
  HookTimeoutError,
  NonRetryableError,
  PlinthError,
  PluginUnavailableError,
  StartupAbortedError,
  StartupError,
  type ConfigProblem,
  type GraphErrorCode,
} from './errors.js';
