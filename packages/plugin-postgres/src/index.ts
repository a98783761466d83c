export { postgres, type PostgresPluginOptions } from './postgres.js';
export { PostgresPlugin, type PostgresOptions } from './postgres-plugin.js';
export type { DrizzleSchema, PostgresDatabase, PostgresTransaction } from './database.js';
export { postgresSettings, SSL_MODES, type PostgresSettingsSchema, type SslMode } from './settings.js';
export { isConnectionError } from './connection-errors.js';
