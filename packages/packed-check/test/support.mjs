import process from 'node:process';
import { execFile } from 'node:child_process';
import { cp, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';

const exec = promisify(execFile);

/** Runs a command; rejects with its output when it fails. */
export async function run(command, args, options = {}) {
  // Without this, a `node --test` started from here reports to this test runner, not to stdout.
  const { NODE_TEST_CONTEXT: _, ...env } = process.env;
  try {
    const { stdout, stderr } = await exec(command, args, { maxBuffer: 64 * 1024 * 1024, ...options, env: { ...env, ...options.env } });
    return { stdout, stderr };
  } catch (error) {
    throw new Error(`${command} ${args.join(' ')} failed in ${options.cwd ?? process.cwd()}:\n${error.stdout ?? ''}\n${error.stderr ?? ''}`, { cause: error });
  }
}

export const npm = (args, cwd, env) => run('npm', [...args, '--no-audit', '--no-fund', '--loglevel=error'], { cwd, env: { npm_config_update_notifier: 'false', ...env } });

/** Copies a project folder (without node_modules or dist) and points its @plinth dependencies at tarballs. */
export async function projectWithTarballs(source, target, tarballs) {
  await cp(source, target, { recursive: true, filter: (file) => !/[\\/](node_modules|dist|package-lock\.json)$/.test(file) });
  const file = path.join(target, 'package.json');
  const manifest = JSON.parse(await readFile(file, 'utf8'));
  for (const field of ['dependencies', 'devDependencies']) {
    for (const name of Object.keys(manifest[field] ?? {})) {
      if (tarballs[name]) manifest[field][name] = `file:${tarballs[name]}`;
    }
  }
  await writeFile(file, JSON.stringify(manifest, null, 2));
  return manifest;
}

/** Sizes of a folder in KiB (`du -sk`). */
export async function sizeKiB(folder) {
  const { stdout } = await run('du', ['-sk', folder]);
  return Number(stdout.split(/\s+/)[0]);
}

export async function writeJson(file, value) {
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, JSON.stringify(value, null, 2));
}
