export { outbox, OutboxPlugin, type AddOptions, type OutboxOptions, type OutboxPluginOptions, type ProcessedOutcome, type SqlExecutor } from './outbox-plugin.js';
export { outboxSettings, type OutboxSettings, type OutboxSettingsSchema } from './settings.js';
export type { ClaimMode } from './relay.js';
export type { BacklogSnapshot } from './relay-metrics.js';
export { OutboxTable } from './outbox-table.js';
export { rowsOf } from './rows.js';
