import { embeddedSetting, type EmbeddedFallback } from './embedded.js';
import type { SettingProblem, SettingsSchema } from './setting.js';

/** The settings of one scope (the app, or one plugin instance) under one env prefix. */
export interface SettingsGroup {
  /** Unique key: `app` or the plugin prefix. */
  readonly id: string;
  /** `USER_SERVICE` or `USER_SERVICE_PRIMARY_DB`. */
  readonly envPrefix: string;
  /** Where the setting comes from, for `--help`: `app`, `postgres primary_db`. */
  readonly owner: string;
  readonly schema: SettingsSchema;
  /** Defaults given in code (`postgres('db', { settings: { host } })`); env overrides them. */
  readonly overrides?: Readonly<Record<string, unknown>>;
  /** The group has an embedded fallback: it gets an `EMBEDDED` setting, and the rule of `decideEmbedded`. */
  readonly embedded?: EmbeddedFallback;
  /** It has an `enabled` setting; when false, its other settings are neither read nor validated. */
  readonly optional?: boolean;
  /** Checks that span settings (a URL's path, two values that must agree), run once each value parsed. */
  readonly validate?: (values: Readonly<Record<string, unknown>>) => readonly SettingProblem[];
}

/** The group's schema as env sees it: its own settings, plus `embedded` when it has a fallback. */
export function groupSchema(group: SettingsGroup): SettingsSchema {
  return group.embedded ? { ...group.schema, embedded: embeddedSetting } : group.schema;
}
