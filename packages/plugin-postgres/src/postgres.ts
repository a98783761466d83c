import { definePlugin, PLUGIN_API_VERSION, type CommonPluginOptions, type PluginDeclaration } from '@plinth/core';
import type { DrizzleSchema } from './database.js';
import { PostgresPlugin, type PostgresOptions } from './postgres-plugin.js';
import { postgresSettings, type PostgresSettingsSchema } from './settings.js';

/** Everything `postgres(prefix, options)` accepts. */
export type PostgresPluginOptions<TSchema extends DrizzleSchema = Record<string, never>> = CommonPluginOptions<PostgresSettingsSchema> &
  PostgresOptions<TSchema>;

const definition = definePlugin<PostgresSettingsSchema, PostgresPlugin<DrizzleSchema>, PostgresOptions<DrizzleSchema>>({
  type: 'postgres',
  pluginApi: `^${PLUGIN_API_VERSION}`,
  critical: true,
  settings: postgresSettings,
  embedded: { serverSetting: ['url', 'host'] },
  validateOptions(options) {
    const { schema, migrations, migrationsTable, migrationsSchema, casing } = options;
    if (schema !== undefined && (schema === null || typeof schema !== 'object')) {
      throw new TypeError('postgres: the schema option must be the object of tables exported by your schema module');
    }
    if (migrations !== undefined && typeof migrations !== 'string' && !(migrations instanceof URL)) {
      throw new TypeError('postgres: the migrations option must be a folder path or a file: URL');
    }
    for (const [name, value] of [['migrationsTable', migrationsTable], ['migrationsSchema', migrationsSchema]] as const) {
      if (value !== undefined && (typeof value !== 'string' || value === '')) {
        throw new TypeError(`postgres: the ${name} option must be a non-empty string`);
      }
    }
    if (casing !== undefined && casing !== 'snake_case' && casing !== 'camelCase') {
      throw new TypeError('postgres: the casing option must be snake_case or camelCase');
    }
  },
  create: (ctx) => new PostgresPlugin(ctx),
});

/**
 * Declares a PostgreSQL instance. Its settings are read from `{APP}_{PREFIX}_*`
 * (`USER_SERVICE_PRIMARY_DB_URL`…); with neither `URL` nor `HOST` set it runs embedded,
 * on PGlite (outside production, or with `…_EMBEDDED=true`). Critical by default.
 *
 * ```ts
 * import * as schema from './schema.js';
 * createApp({ name: 'user-service', plugins: [postgres('primary_db', { schema, migrations: './drizzle' })] });
 * ```
 */
export function postgres<TSchema extends DrizzleSchema = Record<string, never>>(
  prefix: string,
  options?: PostgresPluginOptions<TSchema>,
): PluginDeclaration<PostgresPlugin<TSchema>> {
  return definition(prefix, options as PostgresPluginOptions<DrizzleSchema> | undefined) as unknown as PluginDeclaration<
    PostgresPlugin<TSchema>
  >;
}

/**
 * A ready test double: the declared instance on embedded PGlite whatever the env says,
 * keeping its schema and migrations. `settings` sets defaults such as `dataDir`.
 *
 * ```ts
 * await createTestApp(options, { plugins: { primary_db: postgres.embedded({ dataDir }) } });
 * ```
 */
postgres.embedded = definition.embedded;
