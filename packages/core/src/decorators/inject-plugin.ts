import { inject } from 'inversify';
import { recordInjectionPoint } from '../internal/injection-metadata.js';
import type { PluginPrefix } from '../plugin/plugin-registry.js';
import { pluginToken } from '../tokens.js';

/**
 * Injects the plugin instance declared with this prefix, e.g.
 * `constructor(@InjectPlugin('primary_db') db: PostgresPlugin)`.
 * Once `PluginRegistry` is augmented, unknown prefixes fail to compile.
 */
export function InjectPlugin(prefix: PluginPrefix): ParameterDecorator {
  return (target, propertyKey, index) => {
    if (propertyKey !== undefined) {
      throw new TypeError(`@InjectPlugin('${prefix}') is for constructor parameters only`);
    }
    recordInjectionPoint(target, { kind: 'plugin', index, prefix });
    inject(pluginToken(prefix))(target, propertyKey, index);
  };
}
