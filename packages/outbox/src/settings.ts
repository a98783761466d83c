import { setting, type SettingsOf } from '@plinth/core';

/** Settings of one outbox instance, read from `{APP}_{PREFIX}_{SETTING}`. */
export const outboxSettings = {
  schema: setting.nonEmptyString({ doc: 'PostgreSQL schema of the outbox table and of processed message ids (created if missing)', default: 'plinth' }),
  batchSize: setting.positiveInt({ doc: 'Events one relay claims, publishes and marks sent per transaction', default: 200 }),
  pollInterval: setting.duration({ doc: 'Safety-net poll of the outbox table when no notification arrives (ms)', default: 5_000 }),
  publishTimeout: setting.duration({ doc: 'How long the relay waits for a broker confirm before it leaves the event pending (ms)', default: 5_000 }),
  retention: setting.duration({ doc: 'How long sent events stay in the table before pruning (ms)', default: 3_600_000 }),
  pruneInterval: setting.duration({ doc: 'How often sent events older than RETENTION are deleted (ms)', default: 60_000 }),
  staleAfter: setting.duration({ doc: 'Health turns degraded when the oldest pending event is older than this (ms)', default: 30_000 }),
} as const;

export type OutboxSettingsSchema = typeof outboxSettings;
export type OutboxSettings = SettingsOf<OutboxSettingsSchema>;
