import { strict as assert } from 'node:assert';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { spawnProcess, type OutputLine } from '@plinth/testkit';
import { ConfigError } from '../src/index.js';
import { cache } from './fixtures/cache-plugin.js';
import { moduleFolder, pluginSource, type ModuleFolder } from './support/plugin-module.js';
import { testApp } from './support/scripted-plugin.js';

const fixture = fileURLToPath(new URL('./fixtures/module-app.ts', import.meta.url));
const MODULE = 'MODULE_APP_CACHE_MODULE';

function run(env: Record<string, string>, args: string[] = []) {
  return spawnProcess({ args: ['--import', 'tsx', fixture, ...args], env: { MODULE_APP_HEALTH_PORT: '0', ...env } });
}

/** Runs the app as a process with `env` and expects it to refuse to start with exit code 78; returns stderr. */
async function refusedProcess(env: Record<string, string>): Promise<string> {
  const child = run(env);
  const exit = await child.exited;
  assert.equal(exit.code, 78, child.tail());
  return child.stderr;
}

/**
 * Starts the same app in this process with `env` (the cache's module named by
 * TEST_APP_CACHE_MODULE) and expects the ConfigError that exits 78; returns its message.
 */
async function refused(env: Record<string, string>): Promise<string> {
  const renamed = Object.fromEntries(Object.entries(env).map(([k, v]) => [k.replace(/^MODULE_APP_/, 'TEST_APP_'), v]));
  const { app } = testApp({ plugins: [cache('cache', { optional: true })], env: renamed });
  const error = await app.start().then(() => undefined, (e: unknown) => e);
  assert.ok(ConfigError.is(error), `a ConfigError, got ${String(error)}`);
  assert.equal(error.exitCode, 78);
  return error.message.replaceAll('TEST_APP_', 'MODULE_APP_');
}

const inUse = (line: OutputLine): boolean => typeof line === 'object' && line['msg'] === 'cache in use';

describe('implementations loaded by name', () => {
  let modules: ModuleFolder;
  before(() => {
    modules = moduleFolder();
  });
  after(() => modules.remove());

  it('replaces the built-in implementation with the module {APP}_{PREFIX}_MODULE names, and reads its settings', async () => {
    const dir = modules.writePackage('cache-cluster', pluginSource());
    const child = run({ [MODULE]: dir, MODULE_APP_CACHE_NODES: '5' });
    const line = (await child.waitForLine(inUse, 20_000)) as Record<string, unknown>;
    assert.deepEqual(line['cache'], { implementation: 'cluster', nodes: 5 });
    child.signal('SIGTERM');
    assert.equal((await child.exited).code, 0, child.tail());
  });

  it('finds a named export with #name', async () => {
    const dir = modules.writePackage('cache-named', pluginSource({ exportName: 'clusterCache', implementation: 'named' }));
    const child = run({ [MODULE]: `${dir}#clusterCache` });
    const line = (await child.waitForLine(inUse, 20_000)) as Record<string, unknown>;
    assert.equal(line['implementation'], 'named');
    await child.kill();
  });

  it('shows the settings of the implementation that will run in --help', async () => {
    const dir = modules.writePackage('cache-help', pluginSource());
    const child = run({ [MODULE]: dir }, ['--help']);
    assert.equal((await child.exited).code, 0, child.tail());
    assert.match(child.stdout, /MODULE_APP_CACHE_NODES {2}\(default: 3\)/);
    assert.match(child.stdout, /How many cluster nodes/);
    assert.doesNotMatch(child.stdout, /MODULE_APP_CACHE_TTL/, 'the built-in implementation\'s settings are gone');
  });

  it('takes the module from the env file {APP}_ENV_FILE names, in --help too', async () => {
    const dir = modules.writePackage('cache-from-file', pluginSource());
    const envFile = modules.writeFile('env', 'app.env', `${MODULE}=${dir}\n`);
    const child = run({ MODULE_APP_ENV_FILE: envFile }, ['--help']);
    assert.equal((await child.exited).code, 0, child.tail());
    assert.match(child.stdout, /MODULE_APP_CACHE_NODES/);
  });

  it('validates the module\'s own settings like any other (exit 78, named by variable)', async () => {
    const dir = modules.writePackage('cache-validated', pluginSource());
    const stderr = await refusedProcess({ [MODULE]: dir, MODULE_APP_CACHE_NODES: 'many' });
    assert.match(stderr, /MODULE_APP_CACHE_NODES="many" is invalid/);
  });

  it('refuses a module that cannot be found, naming the variable and the module', async () => {
    const missing = `${modules.root}/no-such-package`;
    const stderr = await refused({ [MODULE]: missing });
    assert.ok(stderr.includes(`${MODULE}="${missing}": the module cannot be found`), stderr);
  });

  it('refuses a module that throws while loading, with its error: the process exits 78', async () => {
    const dir = modules.writePackage('cache-throws', `throw new Error('no cluster configured');\n`);
    const stderr = await refusedProcess({ [MODULE]: dir });
    assert.match(stderr, /MODULE_APP_CACHE_MODULE=".*cache-throws": the module threw while loading: no cluster configured/);
  });

  it('refuses a module without the export, listing what it exports', async () => {
    const dir = modules.writePackage('cache-no-export', pluginSource({ exportName: 'somethingElse' }));
    const stderr = await refused({ [MODULE]: dir });
    assert.match(stderr, /has no export "default" \(it exports "somethingElse"\); expected the plugin factory definePlugin returns/);
  });

  it('refuses an export that is not a plugin', async () => {
    const dir = modules.writePackage('cache-not-plugin', `export default { type: 'cache' };\n`);
    const stderr = await refused({ [MODULE]: dir });
    assert.match(stderr, /export "default" is an object, not a plugin; expected the factory definePlugin returns/);
  });

  it('refuses a plugin of another type, naming both', async () => {
    const dir = modules.writePackage('queue-plugin', pluginSource({ type: 'queue' }));
    const stderr = await refused({ [MODULE]: dir });
    assert.match(stderr, /export "default" is a queue plugin; expected a cache plugin/);
  });

  it('refuses a plugin built for another plugin API, naming both versions', async () => {
    const dir = modules.writePackage('cache-api-2', pluginSource({ range: '^2.0.0' }));
    const stderr = await refused({ [MODULE]: dir });
    assert.match(stderr, /the cache plugin supports plugin API \^2\.0\.0; this core has plugin API 1\.0\.0/);
  });

  it('refuses a plugin that declares no plugin API range', async () => {
    const dir = modules.writePackage('cache-no-api', pluginSource({ range: null }));
    const stderr = await refused({ [MODULE]: dir });
    assert.match(stderr, /the cache plugin declares no plugin API range; expected a range that includes 1\.0\.0/);
  });

  it('names every bad module in one error', async () => {
    const message = await refused({ [MODULE]: `${modules.root}/missing`, MODULE_APP_HANDLERS_DIR: `${modules.root}/no-such-dir` });
    assert.match(message, /\(2 problems\)/);
    assert.match(message, /MODULE_APP_CACHE_MODULE=.*cannot be found/);
    assert.match(message, /MODULE_APP_HANDLERS_DIR=.*cannot be read/);
  });

  it('refuses an implementation without a no-op for a plugin declared optional', async () => {
    const dir = modules.writePackage('cache-no-noop', pluginSource({ noop: false }));
    const stderr = await refused({ [MODULE]: dir });
    assert.match(stderr, /cache plugin "cache" is declared optional, but the cache plugin has no no-op implementation/);
  });

  it('refuses a bad module in --help too, with exit code 78', async () => {
    const child = run({ [MODULE]: `${modules.root}/nothing-here` }, ['--help']);
    assert.equal((await child.exited).code, 78, child.tail());
    assert.match(child.stderr, /MODULE_APP_CACHE_MODULE=.*cannot be found/);
  });
});
