import type { SettingsSchema } from './setting.js';

/** The settings of one scope (the app, or one plugin instance) under one env prefix. */
export interface SettingsGroup {
  /** Unique key: `app` or the plugin prefix. */
  readonly id: string;
  /** `USER_SERVICE` or `USER_SERVICE_PRIMARY_DB`. */
  readonly envPrefix: string;
  /** Where the setting comes from, for `--help`: `app`, `postgres primary_db`. */
  readonly owner: string;
  readonly schema: SettingsSchema;
  /** Defaults given in code (`postgres('db', { config: { host } })`); env overrides them. */
  readonly overrides?: Readonly<Record<string, unknown>>;
}
