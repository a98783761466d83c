import { formats, type SettingFormat } from './formats.js';

/**
 * One configurable value: its format, default and documentation. `P` records whether
 * the resolved value is always present (it has a default, or env must set it).
 */
export interface Setting<T, P extends boolean = boolean> {
  readonly format: SettingFormat<T>;
  readonly default: T | undefined;
  /** Env must set it: no default exists. */
  readonly required: boolean;
  /** Masked in errors, `--help` and logs. */
  readonly sensitive: boolean;
  /** Re-read on SIGHUP and `app.reload()` and applied without a restart (see `OnSettingsChange`). */
  readonly reloadable?: boolean;
  readonly doc: string;
  /** Type-level marker only. */
  readonly present?: P;
}

/** A plugin's or app's settings, keyed in camelCase; env names derive from the keys. */
export type SettingsSchema = Readonly<Record<string, Setting<unknown>>>;

/** The resolved values of a schema. Optional settings without a default may be undefined. */
export type SettingsOf<S extends SettingsSchema> = {
  readonly [K in keyof S]: S[K] extends Setting<infer T, infer P> ? (P extends true ? T : T | undefined) : never;
};

export interface SettingInit<T> {
  readonly doc: string;
  readonly default?: T;
  readonly required?: boolean;
  readonly sensitive?: boolean;
  readonly reloadable?: boolean;
}

type PresenceOf<I> = I extends { readonly default: unknown } ? true : I extends { readonly required: true } ? true : false;

function builder<T>(format: SettingFormat<T>) {
  return <const I extends SettingInit<T>>(init: I): Setting<T, PresenceOf<I>> => ({
    format,
    default: init.default,
    required: init.default === undefined && init.required === true,
    sensitive: init.sensitive ?? false,
    reloadable: init.reloadable ?? false,
    doc: init.doc,
  });
}

/**
 * Builders for settings:
 * `setting.port({ doc: 'PostgreSQL port', default: 5432 })`,
 * `setting.string({ doc: 'Password', sensitive: true })`,
 * `setting.oneOf(['disable', 'require'] as const, { doc: 'TLS mode', default: 'disable' })`.
 */
export const setting = {
  string: builder(formats.string),
  nonEmptyString: builder(formats.nonEmptyString),
  nat: builder(formats.nat),
  positiveInt: builder(formats.positiveInt),
  port: builder(formats.port),
  portOrZero: builder(formats.portOrZero),
  boolean: builder(formats.boolean),
  duration: builder(formats.duration),
  int: <const I extends SettingInit<number> & { readonly min?: number; readonly max?: number }>(init: I) =>
    builder(formats.int(init.min, init.max))(init),
  url: <const I extends SettingInit<string> & { readonly protocols?: readonly string[] }>(init: I) =>
    builder(formats.url(init.protocols))(init),
  oneOf: <const T extends string, const I extends SettingInit<T> = SettingInit<T>>(values: readonly T[], init: I) =>
    builder(formats.oneOf(values))(init),
  custom: <T>(format: SettingFormat<T>) => builder(format),
};

/**
 * A problem with a setting's value that its format alone cannot see (a URL path, two
 * settings that must agree). `message` follows the env var's name: `has the path "/x";
 * expected /<db number>` becomes `USER_SERVICE_CACHE_URL has the path "/x"; ...`.
 */
export interface SettingProblem<K extends string = string> {
  readonly setting: K;
  readonly message: string;
}
