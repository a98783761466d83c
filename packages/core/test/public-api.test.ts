import { strict as assert } from 'node:assert';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';

const root = fileURLToPath(new URL('..', import.meta.url));
const readme = readFileSync(path.join(root, 'README.md'), 'utf8');

/** Names exported by an entry file: `export { a, type B, c as D } from '...'`. */
function exportedNames(file: string): string[] {
  const source = readFileSync(path.join(root, file), 'utf8');
  const names: string[] = [];
  for (const [, list] of source.matchAll(/export\s+(?:type\s+)?\{([^}]*)\}/g)) {
    for (const item of (list ?? '').split(',')) {
      const name = item.trim().replace(/^type\s+/, '').split(/\s+as\s+/).at(-1)?.trim();
      if (name) names.push(name);
    }
  }
  return names.sort();
}

/** Names listed in the README's table under a `### heading` of the Public API section. */
function documentedNames(headings: (heading: string) => boolean): string[] {
  const section = readme.slice(readme.indexOf('## Public API'), readme.indexOf('\n## ', readme.indexOf('## Public API') + 1));
  const names: string[] = [];
  let current = '';
  for (const line of section.split('\n')) {
    if (line.startsWith('### ')) current = line.slice(4);
    const row = /^\| `([A-Za-z_]+)` \|/.exec(line);
    if (row?.[1] && headings(current)) names.push(row[1]);
  }
  return names.sort();
}

describe('the public API', () => {
  it('the README lists exactly what @plinth/core exports', () => {
    assert.deepEqual(documentedNames((h) => !h.includes('@plinth/core/')), exportedNames('src/index.ts'));
  });

  it('the README lists exactly what the subpaths export', () => {
    assert.deepEqual(documentedNames((h) => h.includes('@plinth/core/lifecycle')), exportedNames('src/lifecycle/index.ts'));
    assert.deepEqual(documentedNames((h) => h.includes('@plinth/core/http')), exportedNames('src/http/index.ts'));
    assert.deepEqual(documentedNames((h) => h.includes('@plinth/core/handlers')), exportedNames('src/handlers/index.ts'));
    assert.deepEqual(documentedNames((h) => h.includes('@plinth/core/resilience')), exportedNames('src/resilience/index.ts'));
  });

  it('every subpath is in package.json exports with its types', () => {
    const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { exports: Record<string, { types?: string; default?: string }> };
    for (const [subpath, entry] of [['.', 'index'], ['./http', 'http/index'], ['./handlers', 'handlers/index'], ['./lifecycle', 'lifecycle/index'], ['./resilience', 'resilience/index']] as const) {
      assert.deepEqual(pkg.exports[subpath], { types: `./dist/${entry}.d.ts`, default: `./dist/${entry}.js` });
    }
  });

  it('every document the README links exists and ships in the package', () => {
    const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { files: string[] };
    const links = [...readme.matchAll(/\]\((?!https?:|#)([^)#]+)/g)].map((m) => m[1] as string);
    assert.ok(links.length > 0);
    for (const link of links) {
      assert.ok(existsSync(path.join(root, link)), `${link} exists`);
      assert.ok(pkg.files.some((f) => link === f || link.startsWith(`${f}/`)), `${link} is in files`);
    }
  });
});
