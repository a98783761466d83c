import { setting } from '@plinth/core';

/** Read from `{APP}_{PREFIX}_{SETTING}`: `BILLING_API_URL`, `BILLING_API_TOKEN`, … */
export const httpUpstreamSettings = {
  url: setting.url({ protocols: ['http:', 'https:'], doc: 'Base URL of the upstream (https://billing.internal/v1). Unset: the embedded fake answers' }),
  token: setting.string({ doc: 'Bearer token sent with every request', sensitive: true }),
  timeout: setting.duration({ doc: 'Give up one attempt after this long (ms)', default: 2000 }),
  retries: setting.nat({ doc: 'Retries after a failed attempt (connection error, timeout, 502/503/504)', default: 2 }),
  breakerFailures: setting.positiveInt({ doc: 'Consecutive failed calls that open the circuit', default: 5 }),
  breakerCooldown: setting.duration({ doc: 'How long the circuit stays open before one trial call (ms)', default: 10_000 }),
  healthPath: setting.nonEmptyString({ doc: 'Path probed at start and by the health check', default: '/health' }),
} as const;

export type HttpUpstreamSettings = typeof httpUpstreamSettings;
