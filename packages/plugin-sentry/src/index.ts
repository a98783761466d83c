export { sentry } from './sentry.js';
export { SentryPlugin, type SentryPluginOptions, type CaptureContext } from './sentry-plugin.js';
export { sentrySettings, type SentryConfig } from './settings.js';
export { redactStrings, scrubEvent, type Redact } from './scrub.js';
