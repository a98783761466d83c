import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, it } from 'node:test';

const fixture = fileURLToPath(new URL('./fixtures/loaded-modules.ts', import.meta.url));
const packageDir = fileURLToPath(new URL('..', import.meta.url));

describe('what the plugin loads', () => {
  it('node-redis core only: none of the RedisJSON, Search, TimeSeries or Bloom modules', async () => {
    // A fresh process: this one has loaded the `redis` package through the test helpers.
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', fixture], { cwd: packageDir });
    assert.deepEqual(stdout.trim().split('\n'), ['@redis/client']);
  });
});
