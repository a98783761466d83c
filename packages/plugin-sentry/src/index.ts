export { sentry } from './sentry.js';
export { SentryPlugin, type CaptureContext, type SentryMode, type SentryPluginOptions } from './sentry-plugin.js';
export type { CaptureScope } from './capture-scope.js';
export type { SentrySdk } from './sdk.js';
export { sentrySettings, type SentrySettings } from './settings.js';
