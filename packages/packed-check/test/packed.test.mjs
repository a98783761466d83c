import process from 'node:process';
import { strict as assert } from 'node:assert';
import { cp, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { npm, projectWithTarballs, run, sizeKiB, writeJson } from './support.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '../../..');
const example = path.join(repo, 'examples/plugin-http-upstream');
const rootManifest = JSON.parse(await readFile(path.join(repo, 'package.json'), 'utf8'));
const exampleManifest = JSON.parse(await readFile(path.join(example, 'package.json'), 'utf8'));
/** The TypeScript the repository builds with, and the one `npm install typescript` gives a new user. */
const TS_PINNED = rootManifest.devDependencies.typescript;
const TS_CURRENT = exampleManifest.devDependencies.typescript;
const TYPES_NODE = rootManifest.devDependencies['@types/node'];
const PGLITE = JSON.parse(await readFile(path.join(repo, 'packages/plugin-postgres/package.json'), 'utf8')).devDependencies['@electric-sql/pglite'];

let work;
/** name → { tarball, files, dir, manifest } */
const packed = new Map();
const tarballs = () => Object.fromEntries([...packed].map(([name, p]) => [name, p.tarball]));

before(async () => {
  work = await mkdtemp(path.join(os.tmpdir(), 'plinth-packed-'));
  const publics = [];
  // Every package in the repository: one added later is checked without being listed here.
  for (const dir of (await readdir(path.join(repo, 'packages'))).sort()) {
    const manifest = JSON.parse(await readFile(path.join(repo, 'packages', dir, 'package.json'), 'utf8'));
    if (!manifest.private) publics.push({ dir: path.join(repo, 'packages', dir), manifest });
  }
  const { stdout } = await npm(['pack', '--json', '--pack-destination', work, ...publics.flatMap((p) => ['-w', p.manifest.name])], repo);
  for (const result of JSON.parse(stdout)) {
    const pkg = publics.find((p) => p.manifest.name === result.name);
    packed.set(result.name, { ...pkg, tarball: path.join(work, result.filename), files: result.files.map((f) => f.path) });
  }
});

after(async () => {
  if (work && !process.env.PLINTH_KEEP_PACKED) await rm(work, { recursive: true, force: true });
});

describe('packed packages', () => {
  it('are the public ones, and the private test support is not among them', () => {
    assert.deepEqual([...packed.keys()].sort(), [
      '@plinth/core',
      '@plinth/outbox',
      '@plinth/plugin-consul',
      '@plinth/plugin-postgres',
      '@plinth/plugin-rabbitmq',
      '@plinth/plugin-redis',
      '@plinth/plugin-sentry',
      '@plinth/testing',
    ]);
  });

  it('contain dist, types, README and LICENSE, and no tests, configs or build state', () => {
    for (const [name, { files }] of packed) {
      for (const required of ['package.json', 'README.md', 'LICENSE', 'dist/index.js', 'dist/index.d.ts']) {
        assert.ok(files.includes(required), `${name} lacks ${required}`);
      }
      const stray = files.filter((f) => /(^|\/)(test|tests|fixtures|node_modules|\.turbo)\/|\.test\.|^tsconfig|\.tsbuildinfo$/.test(f));
      assert.deepEqual(stray, [], `${name} ships files from the workspace`);
    }
  });

  it('have source maps whose sources are shipped too', async () => {
    for (const [name, { files, dir }] of packed) {
      const maps = files.filter((f) => f.endsWith('.map'));
      assert.ok(maps.length > 0, `${name} ships no source maps`);
      for (const map of maps) {
        const { sources } = JSON.parse(await readFile(path.join(dir, map), 'utf8'));
        for (const source of sources) {
          const shipped = path.posix.normalize(path.posix.join(path.posix.dirname(map), source));
          assert.ok(files.includes(shipped), `${name}/${map} points at ${shipped}, which is not in the package`);
        }
      }
    }
  });

  it('take @plinth/core as a peer dependency with a range, never test support, and say where they come from', () => {
    for (const [name, { manifest }] of packed) {
      for (const field of ['dependencies', 'peerDependencies', 'optionalDependencies']) {
        assert.equal(manifest[field]?.['@plinth/testkit'], undefined, `${name} ${field} names @plinth/testkit`);
      }
      if (name !== '@plinth/core') {
        assert.equal(manifest.dependencies?.['@plinth/core'], undefined, `${name} pins @plinth/core as a dependency`);
        assert.match(manifest.peerDependencies?.['@plinth/core'] ?? '', /^\^/, `${name} needs @plinth/core as a peer with a range`);
      }
      assert.equal(manifest.license, 'MIT');
      assert.ok(manifest.repository?.url && manifest.homepage && manifest.keywords?.length, `${name} lacks repository, homepage or keywords`);
    }
  });
});

describe('installed into a new project', () => {
  let consumer;
  before(async () => {
    consumer = path.join(work, 'consumer');
    await cp(path.join(here, '../fixtures/consumer'), consumer, { recursive: true });
    const deps = Object.entries(tarballs()).map(([, tarball]) => tarball);
    await npm(['install', ...deps, `typescript@${TS_PINNED}`, `@types/node@${TYPES_NODE}`], consumer);
    await npm(['install', '--prefix', path.join(work, 'ts-current'), `typescript@${TS_CURRENT}`], work);
  });

  it('imports every package from ESM', async () => {
    for (const name of packed.keys()) {
      await run(process.execPath, ['--input-type=module', '-e', `const m = await import('${name}'); if (!Object.keys(m).length) process.exit(1);`], { cwd: consumer });
    }
  });

  it(`requires every package from CommonJS (require of ES modules, Node ${process.versions.node})`, async () => {
    const script = [...packed.keys()].map((name) => `if (!Object.keys(require('${name}')).length) throw new Error('${name} is empty');`).join('\n');
    await writeFile(path.join(consumer, 'require.cjs'), script);
    const { stderr } = await run(process.execPath, ['require.cjs'], { cwd: consumer });
    assert.doesNotMatch(stderr, /ERR_REQUIRE/);
  });

  it('loads core as its own few bundled modules, with no dependency read file by file, and prom-client only at the first metric', async () => {
    // A resolve hook records every ES module; require's cache every CommonJS one.
    const hooks = `import { appendFileSync } from 'node:fs';
      export async function resolve(specifier, context, next) { const r = await next(specifier, context); appendFileSync(process.env.OUT, r.url + '\\n'); return r; }`;
    const script = `
      import { register, createRequire } from 'node:module';
      import { appendFileSync } from 'node:fs';
      register('data:text/javascript,' + encodeURIComponent(${JSON.stringify(hooks)}));
      const { createApp } = await import('@plinth/core');
      const cache = createRequire(import.meta.url).cache;
      appendFileSync(process.env.OUT, Object.keys(cache).join('\\n'));
      // prom-client waits for the first metric: then the app's registry serves Node's defaults.
      const exposition = await createApp({ name: 'counted', env: {} }).metrics.metrics();
      if (!Object.keys(cache).some((file) => file.endsWith('/vendor/prom-client.cjs')) || !exposition.includes('process_cpu_user_seconds_total{app="counted"}')) process.exit(3);`;
    const out = path.join(work, 'core-modules.txt');
    await run(process.execPath, ['--input-type=module', '-e', script], { cwd: consumer, env: { OUT: out } });
    const loaded = [...new Set((await readFile(out, 'utf8')).split('\n').filter((url) => url && !url.startsWith('node:')))];
    const outsideCore = loaded.filter((url) => !url.includes('/node_modules/@plinth/core/dist/'));
    assert.deepEqual(outsideCore, [], 'every module of the import is core’s own (its dependencies vendored)');
    assert.ok(loaded.length <= 20, `importing @plinth/core loaded ${loaded.length} modules:\n${loaded.join('\n')}`);
    assert.ok(!loaded.some((url) => url.includes('prom-client')), 'prom-client is not loaded by the import');
  });

  it('tries a newer TypeScript major than the one the repository pins', () => {
    assert.ok(Number(TS_CURRENT.split('.')[0]) > Number(TS_PINNED.split('.')[0]), `${TS_CURRENT} is not a newer major than ${TS_PINNED}`);
  });

  for (const [label, tsc, expected] of [
    ['the pinned TypeScript', () => path.join(consumer, 'node_modules/typescript/bin/tsc'), TS_PINNED],
    ['the current TypeScript major', () => path.join(work, 'ts-current/node_modules/typescript/bin/tsc'), TS_CURRENT],
  ]) {
    it(`compiles a decorated service with ${label} (${expected}) and runs it`, async () => {
      const outDir = `dist-${label.split(' ').pop()}-${label.length}`;
      const { stdout: version } = await run(process.execPath, [tsc(), '--version'], { cwd: consumer });
      assert.equal(version.trim(), `Version ${expected}`, 'the compiler that ran is the one asked for');
      await run(process.execPath, [tsc(), '-p', '.', '--outDir', outDir], { cwd: consumer });
      const { stdout } = await run(process.execPath, [path.join(outDir, 'main.js')], { cwd: consumer });
      assert.match(stdout, /"greeting":"hello Ada"/, `the compiled service did not run (${version.trim()})`);
    });
  }

  it('fails embedded PostgreSQL startup with an install hint when the optional PGlite is absent', async () => {
    const script = `
      import { createApp } from '@plinth/core';
      import { postgres } from '@plinth/plugin-postgres';
      const app = createApp({ name: 'no-pglite', plugins: [postgres('primary_db')], env: {}, logDestination: { write() {} } });
      try { await app.start(); console.log('started'); } catch (error) {
        let text = ''; for (let e = error; e; e = e.cause) text += e.message + '\\n';
        console.log(text);
      }`;
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], { cwd: consumer });
    assert.match(stdout, /npm install @electric-sql\/pglite/);
    assert.match(stdout, /NO_PGLITE_PRIMARY_DB_URL/);
  });
});

describe('installed with core at a newer patch than the plugins were built with', () => {
  let project;
  before(async () => {
    const unpacked = path.join(work, 'core-patch');
    await run('mkdir', ['-p', unpacked]);
    await run('tar', ['xzf', packed.get('@plinth/core').tarball, '-C', unpacked]);
    const manifestFile = path.join(unpacked, 'package', 'package.json');
    const manifest = JSON.parse(await readFile(manifestFile, 'utf8'));
    const [major, minor, patch] = manifest.version.split('.').map(Number);
    manifest.version = `${major}.${minor}.${patch + 1}`;
    await writeFile(manifestFile, JSON.stringify(manifest, null, 2));
    const { stdout } = await npm(['pack', '--json', '--pack-destination', work], path.join(unpacked, 'package'));
    const patched = { ...tarballs(), '@plinth/core': path.join(work, JSON.parse(stdout)[0].filename) };
    project = path.join(work, 'plugin-http-upstream');
    await projectWithTarballs(example, project, patched);
    await npm(['install'], project);
  });

  it('resolves one copy of core, the newer one', async () => {
    const { stdout } = await run('npm', ['ls', '@plinth/core', '--all', '--parseable', '--long'], { cwd: project });
    const copies = new Set(stdout.trim().split('\n').filter((line) => line.includes('@plinth/core@')).map((line) => line.split(':')[0]));
    assert.equal(copies.size, 1, `several copies of core: ${[...copies].join(', ')}`);
    assert.match(stdout, /@plinth\/core@0\.1\.1/);
  });

  it('recognises a PluginUnavailableError thrown by another copy of core with PluginUnavailableError.is()', async () => {
    const installed = path.join(project, 'node_modules/@plinth/core');
    // A second copy beside the project, resolving core's own dependencies from the project.
    const second = path.join(project, 'vendor', 'core');
    await cp(installed, second, { recursive: true, dereference: true });
    const one = await import(pathToFileURL(path.join(installed, 'dist/index.js')).href);
    const two = await import(pathToFileURL(path.join(second, 'dist/index.js')).href);
    assert.notEqual(one.PluginUnavailableError, two.PluginUnavailableError, 'the two copies are separate modules');
    const thrown = new two.PluginUnavailableError('http-upstream', 'billing', 'circuit open');
    assert.equal(thrown instanceof one.PluginUnavailableError, false, 'instanceof fails across copies, which is why .is() exists');
    assert.equal(typeof one.PluginUnavailableError.is, 'function', 'PluginUnavailableError.is() is missing');
    assert.equal(one.PluginUnavailableError.is(thrown), true);
    assert.equal(one.PluginUnavailableError.is(new Error('other')), false);
  });

  it('builds the example plugin with the current TypeScript major and passes its tests and the conformance suite', async () => {
    await npm(['run', 'build'], project);
    const { stdout } = await npm(['test'], project);
    assert.match(stdout, /conformance/);
    assert.match(stdout, /ℹ fail 0/);
  });
});

describe('install size of plugin-postgres', () => {
  it('is much smaller without the optional PGlite', async (t) => {
    const without = path.join(work, 'size-without');
    const withIt = path.join(work, 'size-with');
    const base = [packed.get('@plinth/core').tarball, packed.get('@plinth/plugin-postgres').tarball];
    await writeJson(path.join(without, 'package.json'), { name: 'size-without', private: true });
    await writeJson(path.join(withIt, 'package.json'), { name: 'size-with', private: true });
    await npm(['install', ...base], without);
    await npm(['install', ...base, `@electric-sql/pglite@${PGLITE}`], withIt);
    const a = await sizeKiB(path.join(without, 'node_modules'));
    const b = await sizeKiB(path.join(withIt, 'node_modules'));
    t.diagnostic(`node_modules of core + plugin-postgres: ${(a / 1024).toFixed(1)} MiB without PGlite, ${(b / 1024).toFixed(1)} MiB with it`);
    assert.ok(b - a > 10 * 1024, 'PGlite should account for more than 10 MiB');
  });
});
