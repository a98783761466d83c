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

/** What the compiler shows when a parameter cannot hold the plugin registered for its prefix. */
export interface PluginParameterMismatch<K extends string, I extends number> {
  readonly error: `constructor parameter ${I} is injected with PluginRegistry['${K}'], which its type does not accept`;
}

type ParametersOf<C> = C extends abstract new (...args: infer P) => unknown ? P : never;

/**
 * `unknown` (no constraint) when constructor parameter `I` of `C` accepts the plugin
 * registered for `K`, or when no registry is declared; a `PluginParameterMismatch` otherwise.
 */
export type PluginParameterCheck<C, I extends number, K extends string> = [keyof PluginRegistry] extends [never]
  ? unknown
  : K extends keyof PluginRegistry
    ? [PluginRegistry[K]] extends [ParametersOf<C>[I]]
      ? unknown
      : PluginParameterMismatch<K, I>
    : unknown;
