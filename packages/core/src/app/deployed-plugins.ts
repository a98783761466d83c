import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { envName, PREFIX_PATTERN, toEnvSegment } from '../config/env-names.js';
import type { EnvSource } from '../config/load-settings.js';
import type { ConfigProblem } from '../errors.js';
import { messageOf } from '../message-of.js';
import type { PluginDeclaration } from '../plugin/define-plugin.js';
import { loadPluginModule } from '../plugin/load-plugin-module.js';

export interface DeployedPluginsInput {
  readonly appEnvPrefix: string;
  readonly declared: readonly PluginDeclaration[];
  readonly env: EnvSource;
  /** Where module paths and package names resolve from. */
  readonly baseDir: string;
}

export interface DeployedPlugins {
  readonly plugins: readonly PluginDeclaration[];
  readonly problems: readonly ConfigProblem[];
}

/** Module files a handlers directory may hold; a subdirectory is a package. */
const MODULE_FILE = /\.(m?js|cjs)$/;

/**
 * The plugins the deployment runs: each declared one, or the implementation its
 * `{APP}_{PREFIX}_MODULE` names (declared with the same options), then one plugin per module
 * in `{APP}_HANDLERS_DIR`, its prefix taken from the file name.
 */
export async function loadDeployedPlugins(input: DeployedPluginsInput): Promise<DeployedPlugins> {
  const problems: ConfigProblem[] = [];
  const plugins = await Promise.all(input.declared.map((declared) => implementationOf(declared, input, problems)));
  const handlers = await handlerPlugins(input, problems);
  return { plugins: [...plugins, ...handlers], problems };
}

/** Whether the env names any module to load: an implementation or a handlers directory. */
export function namesModules(env: EnvSource, appEnvPrefix: string, declared: readonly PluginDeclaration[]): boolean {
  const set = (name: string): boolean => env[name] !== undefined && env[name] !== '';
  return set(envName(appEnvPrefix, 'handlersDir')) || declared.some((p) => set(envName(appEnvPrefix, p.prefix, 'module')));
}

async function implementationOf(declared: PluginDeclaration, input: DeployedPluginsInput, problems: ConfigProblem[]): Promise<PluginDeclaration> {
  const variable = envName(input.appEnvPrefix, declared.prefix, 'module');
  const specifier = input.env[variable];
  if (specifier === undefined || specifier === '') return declared;
  const outcome = await loadPluginModule({ variable, specifier, expectedType: declared.type, baseDir: input.baseDir });
  if ('problem' in outcome) {
    problems.push(outcome.problem);
    return declared;
  }
  try {
    return (outcome.factory as unknown as (prefix: string, options: object) => PluginDeclaration)(declared.prefix, declared.options);
  } catch (error) {
    problems.push({ env: variable, message: `${variable}=${JSON.stringify(specifier)}: the ${declared.type} plugin rejects the options "${declared.prefix}" is declared with: ${messageOf(error)}` });
    return declared;
  }
}

async function handlerPlugins(input: DeployedPluginsInput, problems: ConfigProblem[]): Promise<PluginDeclaration[]> {
  const variable = envName(input.appEnvPrefix, 'handlersDir');
  const dir = input.env[variable];
  if (dir === undefined || dir === '') return [];
  const absolute = path.resolve(input.baseDir, dir);
  let entries: string[];
  try {
    const found = await readdir(absolute, { withFileTypes: true });
    entries = found.filter((e) => e.isDirectory() || MODULE_FILE.test(e.name)).map((e) => e.name).sort();
  } catch (error) {
    problems.push({ env: variable, message: `${variable}=${JSON.stringify(dir)} cannot be read: ${messageOf(error)}` });
    return [];
  }
  const declared = new Set(input.declared.map((p) => p.prefix));
  const plugins: PluginDeclaration[] = [];
  for (const entry of entries) {
    const prefix = toEnvSegment(entry.replace(MODULE_FILE, '')).toLowerCase();
    const file = path.join(absolute, entry);
    if (!PREFIX_PATTERN.test(prefix) || declared.has(prefix)) {
      problems.push({ env: variable, message: `${variable}: ${file} would be the plugin "${prefix}", which ${declared.has(prefix) ? 'the app declares already' : 'is no valid prefix'}; rename the file` });
      continue;
    }
    const outcome = await loadPluginModule({ variable, specifier: file, expectedType: undefined, baseDir: input.baseDir });
    if ('problem' in outcome) {
      problems.push(outcome.problem);
      continue;
    }
    try {
      plugins.push((outcome.factory as unknown as (prefix: string) => PluginDeclaration)(prefix));
    } catch (error) {
      problems.push({ env: variable, message: `${variable}: ${file} cannot be declared: ${messageOf(error)}` });
    }
  }
  return plugins;
}
