import 'reflect-metadata';

// Declare an app
export { createApp } from './app/create-app.js';
export type { App, AppOptions } from './app/app.js';
export { Service } from './decorators/service.js';

// Inject
export { Inject } from './decorators/inject.js';
export { InjectPlugin } from './decorators/inject-plugin.js';
export { APP, APP_SETTINGS, LOGGER, lazy, type LazyToken } from './tokens.js';
export type { InjectionToken } from './internal/injection-metadata.js';
export type { PluginRegistry } from './plugin/plugin-registry.js';
export type { Logger } from './logging/logger.js';

// Configure
export { setting, type Setting, type SettingsSchema, type SettingsOf } from './config/setting.js';
export type { SettingFormat } from './config/formats.js';
export { envName } from './config/env-names.js';

// Run and observe
export type { AppState, LifecycleEvent, StateChange } from './lifecycle/events.js';
export type { HealthCheck, HealthCheckContext, HookContext, OnSettingsChange, OnStart, OnStop, PluginTarget, PreStart } from './lifecycle/hooks.js';

// Write a plugin
export {
  definePlugin,
  type CommonPluginOptions,
  type PluginContext,
  type PluginDeclaration,
  type PluginDefinition,
  type PluginDouble,
  type PluginFactory,
} from './plugin/define-plugin.js';
export { PLUGIN_API_VERSION } from './plugin/plugin-api.js';
export type { PluginAvailability } from './plugin/plugin-availability.js';
export type { EmbeddedFallback } from './config/embedded.js';
export type { SettingProblem } from './config/setting.js';
export type { ErrorContext } from './app/error-channel.js';
export type { HttpAddress, PluginHost, RequestRecord } from './app/plugin-host.js';

// Errors
export {
  ConfigError,
  GraphValidationError,
  NonRetryableError,
  PlinthError,
  PluginUnavailableError,
  StartupAbortedError,
  StartupError,
} from './errors.js';
export { messageOf } from './message-of.js';
