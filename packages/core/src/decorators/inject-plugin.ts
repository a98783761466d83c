import { inject } from 'inversify';
import { recordInjectionPoint } from '../internal/injection-metadata.js';
import type { PluginParameterCheck, PluginPrefix } from '../plugin/plugin-registry.js';
import { pluginToken } from '../tokens.js';

/**
 * The decorator `@InjectPlugin(prefix)` returns. TypeScript calls a constructor
 * parameter's decorator with the class and the parameter's index as a literal type, so
 * the index parameter can require that the parameter's declared type accept
 * `PluginRegistry[K]`: a wrong plugin class fails to compile once the registry is declared.
 */
export type PluginParameterDecorator<K extends string> = <C extends abstract new (...args: never[]) => unknown, I extends number>(
  target: C,
  propertyKey: undefined,
  parameterIndex: I & PluginParameterCheck<C, I, K>,
) => void;

/**
 * Injects the plugin instance declared with this prefix, e.g.
 * `constructor(@InjectPlugin('primary_db') db: PostgresPlugin)`.
 * Once `PluginRegistry` is augmented, an unknown prefix, or a parameter whose type does
 * not accept the registered plugin, fails to compile.
 */
export function InjectPlugin<K extends PluginPrefix>(prefix: K): PluginParameterDecorator<K> {
  return (target, propertyKey, index) => {
    if (propertyKey !== undefined) {
      throw new TypeError(`@InjectPlugin('${prefix}') is for constructor parameters only`);
    }
    recordInjectionPoint(target, { kind: 'plugin', index, prefix });
    inject(pluginToken(prefix))(target, propertyKey, index);
  };
}
