// Ships core as a few ES modules instead of hundreds: each module a process loads costs a
// resolve, a read and a compile at every start, and core's dependencies are mostly many
// small CommonJS files (prom-client with @opentelemetry/api, pino with its helpers,
// cockatiel, inversify's ~240 ES modules). Measured on compiled JavaScript: importing them
// one file at a time took 126 ms and 60 MB; the same code bundled, 39 ms and 47 MB.
// Runs after tsc (which still writes the declarations):
// - each vendored dependency becomes dist/vendor/<name>.js, reached through the package's
//   "#vendor/*" import (no source map: not our code; licences in dist/vendor/LICENSES.md).
//   The packages stay dependencies: core's declarations import their types;
// - prom-client, which core loads only when an app first builds metrics (and synchronously,
//   as `app.metrics` is synchronous), is one CommonJS module, dist/vendor/prom-client.cjs;
// - core's own modules are bundled into its entry points (one per exported subpath) and
//   shared chunks, with source maps that chain tsc's maps back to src/;
// - the per-file .js and .js.map that tsc wrote are removed, so nothing imports them.
import { build } from 'esbuild';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const pkg = fileURLToPath(new URL('..', import.meta.url));
const dist = join(pkg, 'dist');
const manifest = JSON.parse(await readFile(join(pkg, 'package.json'), 'utf8'));
const requireFromCore = createRequire(join(pkg, 'package.json'));

// Every runtime dependency but semver, which core imports by file, lazily, only when an
// operator names a plugin module: bundling it would make that lazy load eager.
const NOT_VENDORED = new Set(['semver']);
// prom-client is loaded on demand with require() (src/metrics/prom-client.ts), never
// imported: its vendored copy is CommonJS, at this specifier (the package's "imports").
const PROM_CLIENT_VENDORED = '#vendor/prom-client.cjs';
const VENDORED = Object.keys(manifest.dependencies).filter((name) => !NOT_VENDORED.has(name) && name !== 'prom-client');

// One entry per subpath the package exports, so a new subpath can never ship unbundled.
const ENTRIES = Object.values(manifest.exports)
  .map((target) => (typeof target === 'object' ? target.default : undefined))
  .filter((target) => typeof target === 'string' && target.startsWith('./dist/'))
  .map((target) => target.slice('./dist/'.length));

const tscOutput = (await readdir(dist, { recursive: true })).filter((f) => f.endsWith('.js') || f.endsWith('.js.map'));

/**
 * A module re-exporting every name the dependency exports, so core's named imports keep
 * working against the vendored copy. The names are read from the installed package,
 * loaded the way core loads it (as an ES module, CommonJS through Node's interop).
 */
async function reexportStub(name) {
  const namespace = await import(pathToFileURL(requireFromCore.resolve(name)).href);
  const names = Object.keys(namespace).filter((key) => key !== 'default' && /^[A-Za-z_$][\w$]*$/.test(key));
  const lines = [`export { ${names.join(', ')} } from '${name}';`];
  if ('default' in namespace) lines.push(`export { default } from '${name}';`);
  return lines.join('\n') + '\n';
}

const stubs = await mkdtemp(join(tmpdir(), 'plinth-vendor-'));
const vendorEntries = {};
for (const name of VENDORED) {
  const file = join(stubs, `${name.replace(/[@/]/g, '_')}.mjs`);
  await writeFile(file, await reexportStub(name));
  vendorEntries[name] = file;
}

const vendor = await build({
  entryPoints: vendorEntries,
  // Resolve the dependencies from core, not from the stubs' temporary folder.
  nodePaths: [join(pkg, 'node_modules'), join(pkg, '../../node_modules')],
  absWorkingDir: pkg,
  bundle: true,
  splitting: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  outdir: join(dist, 'vendor'),
  chunkNames: 'shared-[hash]',
  // CommonJS code bundled into an ES module still calls require() for Node's built-ins.
  banner: { js: "import { createRequire as __plinthCreateRequire } from 'node:module';\nconst require = __plinthCreateRequire(import.meta.url);" },
  legalComments: 'inline',
  metafile: true,
  logLevel: 'warning',
});
await rm(stubs, { recursive: true, force: true });

const onDemand = await build({
  entryPoints: { 'prom-client': requireFromCore.resolve('prom-client') },
  absWorkingDir: pkg,
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  outdir: join(dist, 'vendor'),
  outExtension: { '.js': '.cjs' },
  legalComments: 'inline',
  metafile: true,
  logLevel: 'warning',
});

const vendoredPattern = new RegExp(`^(${VENDORED.map((n) => n.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')).join('|')})$`);
const redirectToVendor = {
  name: 'dependencies-to-vendor',
  setup(b) {
    b.onResolve({ filter: vendoredPattern }, (args) => ({ path: `#vendor/${args.path}`, external: true }));
    b.onResolve({ filter: /^prom-client$/ }, () => ({ errors: [{ text: 'import prom-client through promClient() (src/metrics/prom-client.ts): it loads on demand' }] }));
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
  // Anything not vendored stays an import: installed once, shared with the app, and never
  // a source the maps would point at outside the package.
  packages: 'external',
  plugins: [redirectToVendor],
  define: { PLINTH_PROM_CLIENT: JSON.stringify(PROM_CLIENT_VENDORED) },
  allowOverwrite: true,
  metafile: true,
  logLevel: 'warning',
});

await writeFile(join(dist, 'vendor/LICENSES.md'), await licences());

const outputs = [vendor, onDemand, result].flatMap((b) => Object.keys(b.metafile.outputs));
const written = new Set(outputs.map((out) => relative(dist, join(pkg, out))));
for (const file of tscOutput) if (!written.has(file)) await rm(join(dist, file));

/** The licence of every package whose code the vendor modules contain, dependencies of dependencies included. */
async function licences() {
  const packages = new Map();
  for (const input of [vendor, onDemand].flatMap((b) => Object.keys(b.metafile.inputs))) {
    const match = input.match(/node_modules\/((?:@[^/]+\/)?[^/]+)\//);
    if (!match || packages.has(match[1])) continue;
    const root = input.slice(0, input.indexOf(match[0]) + match[0].length);
    packages.set(match[1], join(pkg, root));
  }
  const sections = ['# Licences of the code in this folder\n', 'These modules bundle the following packages, unchanged.\n'];
  for (const [name, dir] of [...packages].sort(([a], [b]) => a.localeCompare(b))) {
    const meta = JSON.parse(await readFile(join(dir, 'package.json'), 'utf8'));
    const files = (await readdir(dir)).filter((f) => /^(licen[cs]e|copying)/i.test(f));
    const text = files.length > 0 ? await readFile(join(dir, files[0]), 'utf8') : `${meta.license ?? 'see the package'} (no licence file in the package)`;
    sections.push(`## ${name} ${meta.version}\n\n${text.trim()}\n`);
  }
  return sections.join('\n');
}
