/**
 * Maps plugin prefixes to instance types. Empty by default; an app fills it by
 * module augmentation to have `@InjectPlugin` and `app.plugin()` type-checked:
 *
 * ```ts
 * declare module '@plinth/core' {
 *   interface PluginRegistry { primary_db: PostgresPlugin }
 * }
 * ```
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- filled by augmentation
export interface PluginRegistry {}

/** The prefixes an app may inject: any string until `PluginRegistry` is augmented. */
export type PluginPrefix = [keyof PluginRegistry] extends [never] ? string : keyof PluginRegistry & string;

/** The instance type registered for a prefix. */
export type PluginOf<K extends string> = K extends keyof PluginRegistry ? PluginRegistry[K] : unknown;
