import { strict as assert } from 'node:assert';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { templateCopy } from '../src/index.js';

describe('templateCopy', () => {
  it('builds the template once and hands out independent copies; a change to an input rebuilds it', async () => {
    const inputs = await mkdtemp(path.join(os.tmpdir(), 'template-inputs-'));
    const migration = path.join(inputs, '0001.sql');
    await writeFile(migration, 'create table a ();');
    const name = `test-${process.pid}-${Date.now()}`;
    let builds = 0;
    const build = async (dir: string): Promise<void> => {
      builds++;
      const { mkdir } = await import('node:fs/promises');
      await mkdir(dir, { recursive: true });
      await writeFile(path.join(dir, 'data'), await readFile(migration, 'utf8'));
    };

    const first = await templateCopy(name, { build, inputs: [inputs] });
    const second = await templateCopy(name, { build, inputs: [inputs] });
    assert.equal(builds, 1, 'the second copy came from the template');
    assert.notEqual(first, second);
    await writeFile(path.join(first, 'data'), 'changed by one test');
    assert.equal(await readFile(path.join(second, 'data'), 'utf8'), 'create table a ();', 'copies do not share files');

    await writeFile(migration, 'create table b ();');
    const third = await templateCopy(name, { build, inputs: [inputs] });
    assert.equal(builds, 2);
    assert.equal(await readFile(path.join(third, 'data'), 'utf8'), 'create table b ();');
  });
});
