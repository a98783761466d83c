import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, it } from 'node:test';

const fixture = fileURLToPath(new URL('./fixtures/loaded-packages.ts', import.meta.url));
const packageDir = fileURLToPath(new URL('..', import.meta.url));

describe('what a started app loads', () => {
  it('no semver unless an operator names a plugin module', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', fixture], { cwd: packageDir });
    assert.equal(stdout.trim().split('\n').at(-1), 'semver not loaded');
  });
});
