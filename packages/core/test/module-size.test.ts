import { strict as assert } from 'node:assert';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';

const src = fileURLToPath(new URL('../src', import.meta.url));

function lineCount(file: string): number {
  return readFileSync(file, 'utf8').trimEnd().split('\n').length;
}

describe('module size', () => {
  it('App stays a facade: app.ts is under 200 lines', () => {
    const lines = lineCount(path.join(src, 'app/app.ts'));
    assert.ok(lines < 200, `app.ts has ${lines} lines`);
  });

  it('no source file of core is over 300 lines', () => {
    const files = readdirSync(src, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts'));
    assert.ok(files.length > 50, 'found the sources');
    const long = files.map((f) => `${f}: ${lineCount(path.join(src, f))}`).filter((entry) => Number(entry.split(': ')[1]) > 300);
    assert.deepEqual(long, []);
  });
});
