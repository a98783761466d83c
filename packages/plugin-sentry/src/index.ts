export { sentry } from './sentry.js';
export { SentryPlugin, type CaptureContext, type SentryMode, type SentryPluginOptions } from './sentry-plugin.js';
export { sentrySettings, type SentryConfig } from './settings.js';
