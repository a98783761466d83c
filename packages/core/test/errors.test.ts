import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { ConfigError, createApp, messageOf, PlinthError, PluginUnavailableError, StartupError } from '../src/index.js';
import type * as Core from '../src/index.js';
import { OperationTimeoutError, withTimeout } from '../src/lifecycle/index.js';

const packageDir = fileURLToPath(new URL('..', import.meta.url));
const repoRoot = path.resolve(packageDir, '../..');

describe('errors across two copies of @plinth/core', () => {
  let dir: string;
  let copy: typeof Core;
  before(() => {
    // A second, separately built copy of core, as when two packages each bring their own.
    dir = mkdtempSync(path.join(tmpdir(), 'plinth-core-copy-'));
    const built = path.join(packageDir, 'dist/index.js');
    // The package's manifest too: the built modules resolve their vendored inversify through its "imports".
    cpSync(path.join(packageDir, 'package.json'), path.join(dir, 'package.json'));
    if (existsSync(built)) cpSync(path.join(packageDir, 'dist'), path.join(dir, 'dist'), { recursive: true });
    else execFileSync(process.execPath, [path.join(repoRoot, 'node_modules/typescript/bin/tsc'), '-p', path.join(packageDir, 'tsconfig.build.json'), '--outDir', path.join(dir, 'dist')]);
    symlinkSync(path.join(repoRoot, 'node_modules'), path.join(dir, 'node_modules'));
  });
  before(async () => {
    copy = (await import(pathToFileURL(path.join(dir, 'dist/index.js')).href)) as typeof Core;
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('is() recognises an error thrown by the other copy, where instanceof does not', async () => {
    assert.notEqual(copy.ConfigError, ConfigError, 'really two copies');
    const app = copy.createApp({ name: 'copy-app', env: { COPY_APP_LOG_LEVEL: 'loud' } });
    const error: unknown = await app.start().catch((e: unknown) => e);
    assert.equal(error instanceof ConfigError, false);
    assert.equal(ConfigError.is(error), true);
    assert.equal(PlinthError.is(error), true, 'the base class recognises its subclasses');
    assert.equal(StartupError.is(error), false);
    const unavailable = new copy.PluginUnavailableError('redis', 'cache', 'down');
    assert.equal(PluginUnavailableError.is(unavailable), true);
    assert.equal(copy.PluginUnavailableError.is(new PluginUnavailableError('redis', 'cache')), true);
    assert.equal(PluginUnavailableError.is(new Error('plain')), false);
    assert.equal(PluginUnavailableError.is(null), false);
  });
});

describe('messageOf', () => {
  it('gives one line with the cause chain, skipping a cause the message already says', () => {
    const fetchFailed = new TypeError('fetch failed', { cause: new Error('connect ECONNREFUSED 10.0.0.7:443') });
    assert.equal(messageOf(fetchFailed), 'fetch failed: connect ECONNREFUSED 10.0.0.7:443');
    const wrapped = new Error('preStart failed: connect ECONNREFUSED 10.0.0.7:443', { cause: new Error('connect ECONNREFUSED 10.0.0.7:443') });
    assert.equal(messageOf(wrapped), 'preStart failed: connect ECONNREFUSED 10.0.0.7:443');
  });

  it('lists every error of an AggregateError, names a message-less error by its name, and prints non-errors', () => {
    assert.equal(messageOf(new AggregateError([new Error('connect ECONNREFUSED ::1:5432'), new Error('connect ECONNREFUSED 127.0.0.1:5432')])), 'connect ECONNREFUSED ::1:5432; connect ECONNREFUSED 127.0.0.1:5432');
    assert.equal(messageOf(new RangeError()), 'RangeError');
    assert.equal(messageOf('boom'), 'boom');
    assert.equal(messageOf({ message: 'from an object' }), 'from an object');
  });

  it('a StartupError carries its cause, and its message the whole chain', async () => {
    const { definePlugin } = await import('../src/index.js');
    const fetcher = definePlugin({
      type: 'fetcher',
      critical: true,
      settings: {},
      create: () => ({
        preStart: () => {
          throw new TypeError('fetch failed', { cause: new Error('getaddrinfo ENOTFOUND config.internal') });
        },
      }),
    });
    const app = createApp({ name: 'test-app', plugins: [fetcher('remote_config', { startTimeout: 200 })], retryBackoff: { initialDelayMs: 10, maxDelayMs: 20 }, env: { TEST_APP_LOG_LEVEL: 'silent' } });
    const error: unknown = await app.start().catch((e: unknown) => e);
    assert.ok(StartupError.is(error));
    assert.match(error.message, /fetch failed: getaddrinfo ENOTFOUND config\.internal/);
    assert.equal((error.cause as Error).message, 'fetch failed');
  });
});

describe('withTimeout', () => {
  it('rejects with OperationTimeoutError when the operation is late, and with the signal\'s reason when it aborts first', async () => {
    await assert.rejects(withTimeout(new Promise(() => undefined), 20), (error: unknown) => OperationTimeoutError.is(error) && error.timeoutMs === 20);
    const controller = new AbortController();
    const pending = withTimeout(new Promise(() => undefined), 10_000, controller.signal);
    controller.abort(new Error('shutting down'));
    await assert.rejects(pending, /shutting down/);
    assert.equal(await withTimeout(Promise.resolve(7), 1000), 7);
  });
});
