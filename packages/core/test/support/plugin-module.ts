// Writes plugin modules the way an operator ships them: a package in its own folder, with
// its own package.json, importing @plinth/core from its node_modules.
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const CORE_PACKAGE = fileURLToPath(new URL('../..', import.meta.url));

export interface ModuleFolder {
  readonly root: string;
  /** Writes a package `name` whose entry is `source`; returns its folder. */
  writePackage(name: string, source: string): string;
  /** Writes one module file (for a handlers directory) under `dir`; returns its path. */
  writeFile(dir: string, file: string, source: string): string;
  remove(): void;
}

export function moduleFolder(): ModuleFolder {
  const root = mkdtempSync(path.join(tmpdir(), 'plinth-modules-'));
  mkdirSync(path.join(root, 'node_modules', '@plinth'), { recursive: true });
  symlinkSync(CORE_PACKAGE, path.join(root, 'node_modules', '@plinth', 'core'), 'dir');
  return {
    root,
    writePackage(name, source) {
      const dir = path.join(root, name);
      mkdirSync(dir, { recursive: true });
      writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name, version: '1.0.0', type: 'module', exports: './index.js' }));
      writeFileSync(path.join(dir, 'index.js'), source);
      return dir;
    },
    writeFile(dir, file, source) {
      const folder = path.join(root, dir);
      mkdirSync(folder, { recursive: true });
      writeFileSync(path.join(folder, file), source);
      return path.join(folder, file);
    },
    remove: () => rmSync(root, { recursive: true, force: true }),
  };
}

/** A module exporting a plugin of `type` supporting `range`, with one setting of its own and (unless `noop: false`) a no-op implementation. */
export function pluginSource(options: { type?: string; range?: string | null; exportName?: string; implementation?: string; noop?: boolean } = {}): string {
  const { type = 'cache', range = '^1.0.0', exportName = 'default', implementation = 'cluster', noop = true } = options;
  const api = range === null ? '' : `pluginApi: ${JSON.stringify(range)},`;
  const binding = exportName === 'default' ? 'export default' : `export const ${exportName} =`;
  return `import { definePlugin, setting } from '@plinth/core';
${binding} definePlugin({
  type: ${JSON.stringify(type)},
  ${api}
  critical: false,
  settings: { nodes: setting.positiveInt({ doc: 'How many cluster nodes to spread keys over', default: 3 }) },
  create: (ctx) => ({ implementation: ${JSON.stringify(implementation)}, nodes: ctx.settings.nodes }),
  ${noop ? "noop: () => ({ implementation: 'no-op', nodes: 0 })," : ''}
});
`;
}
