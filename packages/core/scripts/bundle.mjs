// Ships core as a few ES modules instead of ~300: importing @plinth/core evaluated about
// 240 modules of inversify alone, and each module costs a resolve, a read and a compile
// at every process start. Runs after tsc (which still writes the declarations):
// - inversify and its @inversifyjs packages become one module, dist/vendor/inversify.js,
//   reached through the package's "#inversify" import (no source map: not our code);
// - core's own modules are bundled into its entry points (one per exported subpath) and shared chunks, with
//   source maps that chain tsc's maps back to src/;
// - the per-file .js and .js.map that tsc wrote are removed, so nothing imports them.
import { build } from 'esbuild';
import { readFile, readdir, rm } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const pkg = fileURLToPath(new URL('..', import.meta.url));
const dist = join(pkg, 'dist');
// One entry per subpath the package exports, so a new subpath can never ship unbundled.
const manifest = JSON.parse(await readFile(join(pkg, 'package.json'), 'utf8'));
const ENTRIES = Object.values(manifest.exports)
  .map((target) => (typeof target === 'object' ? target.default : undefined))
  .filter((target) => typeof target === 'string' && target.startsWith('./dist/'))
  .map((target) => target.slice('./dist/'.length));

const tscOutput = (await readdir(dist, { recursive: true })).filter((f) => f.endsWith('.js') || f.endsWith('.js.map'));

const vendor = await build({
  entryPoints: ['inversify'],
  absWorkingDir: pkg,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  external: ['reflect-metadata'],
  outfile: join(dist, 'vendor/inversify.js'),
  legalComments: 'inline',
  metafile: true,
  logLevel: 'warning',
});

const redirectInversify = {
  name: 'inversify-to-vendor',
  setup(b) {
    b.onResolve({ filter: /^inversify$/ }, () => ({ path: '#inversify', external: true }));
  },
};

const result = await build({
  entryPoints: ENTRIES.map((entry) => join(dist, entry)),
  absWorkingDir: pkg,
  outdir: dist,
  outbase: dist,
  bundle: true,
  splitting: true,
  chunkNames: 'chunks/[name]-[hash]',
  platform: 'node',
  format: 'esm',
  target: 'node20',
  sourcemap: true,
  // Every other dependency stays an import: installed once, shared with the app, and
  // never a source the maps would point at outside the package.
  packages: 'external',
  plugins: [redirectInversify],
  allowOverwrite: true,
  metafile: true,
  logLevel: 'warning',
});

const outputs = [...Object.keys(vendor.metafile.outputs), ...Object.keys(result.metafile.outputs)];
const written = new Set(outputs.map((out) => relative(dist, join(pkg, out))));
for (const file of tscOutput) if (!written.has(file)) await rm(join(dist, file));
