import { createHash } from 'node:crypto';
import { rmSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

export interface TemplateOptions {
  /** Fills an empty folder once: start an embedded database in it, migrate, stop. */
  readonly build: (dir: string) => Promise<void>;
  /** Files or folders whose contents the template depends on (migrations): a change rebuilds it. */
  readonly inputs?: readonly string[];
}

const ROOT = path.join(os.tmpdir(), 'plinth-templates');
const copies: string[] = [];
process.once('exit', () => {
  for (const dir of copies) rmSync(dir, { recursive: true, force: true });
});

/**
 * A fresh copy of a folder that `build` fills once per name and inputs, kept in the OS
 * temp folder across test runs. Copying a prepared embedded-database folder is much cheaper
 * than creating and migrating one per test. Copies are removed when the process exits.
 */
export async function templateCopy(name: string, options: TemplateOptions): Promise<string> {
  const template = path.join(ROOT, `${name.replace(/[^A-Za-z0-9_-]/g, '_')}-${await hashOf(options.inputs ?? [])}`);
  if (!(await exists(path.join(template, '.complete')))) await buildTemplate(template, options.build);
  const copy = await mkdtemp(path.join(os.tmpdir(), 'plinth-copy-'));
  copies.push(copy);
  await cp(template, copy, { recursive: true, filter: (source) => path.basename(source) !== '.complete' });
  return copy;
}

async function buildTemplate(template: string, build: (dir: string) => Promise<void>): Promise<void> {
  await mkdir(ROOT, { recursive: true });
  const staging = await mkdtemp(path.join(ROOT, '.staging-'));
  try {
    const data = path.join(staging, 'data');
    await build(data);
    await writeFile(path.join(data, '.complete'), new Date().toISOString());
    // Another process may have built it meanwhile: the first rename wins, both are identical.
    await rename(data, template).catch(() => undefined);
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

async function hashOf(inputs: readonly string[]): Promise<string> {
  const hash = createHash('sha256');
  for (const input of inputs) {
    for (const file of await filesOf(path.resolve(input))) {
      hash.update(file).update(await readFile(file));
    }
  }
  return hash.digest('hex').slice(0, 12);
}

async function filesOf(target: string): Promise<string[]> {
  const info = await stat(target);
  if (!info.isDirectory()) return [target];
  const entries = await readdir(target, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => path.join(e.parentPath, e.name)).sort();
}

async function exists(file: string): Promise<boolean> {
  return stat(file).then(() => true, () => false);
}
