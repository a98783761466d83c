import { definePlugin } from '@plinth/core';
import { HttpUpstreamPlugin, type HttpUpstreamOptions } from './http-upstream-plugin.js';
import { httpUpstreamSettings } from './settings.js';

/**
 * Declares an HTTP upstream: `httpUpstream('billing_api')`, configured by
 * `{APP}_BILLING_API_URL`, `_TOKEN`, `_TIMEOUT`, `_RETRIES`, `_BREAKER_FAILURES`,
 * `_BREAKER_COOLDOWN`, `_HEALTH_PATH`. Without a URL an embedded fake answers.
 * Non-critical: the app starts degraded when the upstream is down.
 */
export const httpUpstream = definePlugin<typeof httpUpstreamSettings, HttpUpstreamPlugin, HttpUpstreamOptions>({
  type: 'http-upstream',
  critical: false,
  settings: httpUpstreamSettings,
  embedded: { serverSetting: 'url' },
  create: (ctx) => new HttpUpstreamPlugin(ctx),
});

export { HttpUpstreamPlugin, type CircuitStateName, type HttpUpstreamOptions, type HttpUpstreamStats } from './http-upstream-plugin.js';
export { UpstreamError } from './errors.js';
export type { FakeRequest, FakeUpstream, UpstreamResponse } from './fake.js';
export { httpUpstreamSettings, type HttpUpstreamSettings } from './settings.js';
