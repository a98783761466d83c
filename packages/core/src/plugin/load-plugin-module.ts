import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { ConfigProblem } from '../errors.js';
import { messageOf } from '../message-of.js';
import type { PluginFactory } from './define-plugin.js';
import { PLUGIN_API_VERSION, PLUGIN_FACTORY } from './plugin-api.js';

/** A plugin factory from any copy of core. */
export type AnyPluginFactory = PluginFactory<never, object, never>;

export interface PluginModuleRequest {
  /** The env var that names the module, for every problem. */
  readonly variable: string;
  /** `@acme/plinth-redis-cluster`, `./plugins/cache.js`, `/opt/x`; `#name` picks an export other than `default`. */
  readonly specifier: string;
  /** The plugin type the module must declare; any type when undefined. */
  readonly expectedType: string | undefined;
  /** Where relative paths and package names are resolved from. */
  readonly baseDir: string;
}

export type PluginModuleOutcome = { readonly factory: AnyPluginFactory } | { readonly problem: ConfigProblem };

/**
 * Imports the module an operator named and checks it holds a plugin core can run in place
 * of the declared one: found, loads without throwing, has the export, is a `definePlugin`
 * factory of the expected type, and supports this core's plugin API.
 */
export async function loadPluginModule(request: PluginModuleRequest): Promise<PluginModuleOutcome> {
  const { variable, specifier, expectedType } = request;
  const [moduleName = '', exportName = 'default'] = specifier.split('#');
  const named = `${variable}=${JSON.stringify(specifier)}`;
  const fail = (message: string): PluginModuleOutcome => ({ problem: { env: variable, message: `${named}: ${message}` } });

  let url: string;
  try {
    url = pathToFileURL(resolveModule(moduleName, request.baseDir)).href;
  } catch (error) {
    return fail(`the module cannot be found (${messageOf(error).split('\n')[0]}); expected a package name or a path to a module`);
  }
  let loaded: Record<string, unknown>;
  try {
    loaded = (await import(url)) as Record<string, unknown>;
  } catch (error) {
    return fail(`the module threw while loading: ${messageOf(error)}`);
  }
  if (!(exportName in loaded) || loaded[exportName] === undefined) {
    const found = Object.keys(loaded).filter((k) => k !== 'module.exports');
    return fail(`the module has no export "${exportName}" (it exports ${found.length ? found.map((k) => `"${k}"`).join(', ') : 'nothing'}); expected the plugin factory definePlugin returns`);
  }
  const value = loaded[exportName];
  if (!isPluginFactory(value)) {
    return fail(`export "${exportName}" is ${describeValue(value)}, not a plugin; expected the factory definePlugin returns`);
  }
  if (expectedType !== undefined && value.type !== expectedType) {
    return fail(`export "${exportName}" is a ${value.type} plugin; expected a ${expectedType} plugin`);
  }
  const range = value.pluginApi;
  // Loaded here, and only the two functions: only an app whose operator names a plugin
  // module needs them, and semver's index loads all of its ~50 modules.
  const [{ default: satisfies }, { default: validRange }] = await Promise.all([
    import('semver/functions/satisfies.js'),
    import('semver/ranges/valid.js'),
  ]);
  if (range === undefined || validRange(range) === null) {
    return fail(`the ${value.type} plugin declares ${range === undefined ? 'no plugin API range' : `the invalid plugin API range "${range}"`}; expected a range that includes ${PLUGIN_API_VERSION} (pluginApi in definePlugin)`);
  }
  if (!satisfies(PLUGIN_API_VERSION, range)) {
    return fail(`the ${value.type} plugin supports plugin API ${range}; this core has plugin API ${PLUGIN_API_VERSION}`);
  }
  return { factory: value };
}

function isPluginFactory(value: unknown): value is AnyPluginFactory {
  return typeof value === 'function' && (value as unknown as Record<symbol, unknown>)[PLUGIN_FACTORY] === true;
}

function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'function') return 'a function';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

/** Paths resolve from `baseDir`, package names from its node_modules, the way `require.resolve` does. */
function resolveModule(name: string, baseDir: string): string {
  const require = createRequire(path.join(baseDir, 'package.json'));
  if (name.startsWith('file:')) return new URL(name).pathname;
  return require.resolve(path.isAbsolute(name) || name.startsWith('.') ? path.resolve(baseDir, name) : name);
}
