// The cost benchmarks measure compiled JavaScript under plain `node`, never tsx: tsx's
// loader would dwarf what they compare. Their fixtures are compiled once per run with tsc
// and copied into each checkout being measured, so `@plinth/*` and every dependency
// resolve from that checkout's node_modules. PLINTH_BEFORE names a second checkout (built,
// e.g. the commit before a change) whose plinth sides run alongside, in the same rounds.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const OUT = 'bench/.tmp/compiled';

/** A checkout whose plinth sides are measured: this one ("after") and optionally PLINTH_BEFORE. */
export interface Checkout {
  readonly label: 'before' | 'after';
  readonly dir: string;
}

export function checkouts(): readonly Checkout[] {
  const before = process.env['PLINTH_BEFORE'];
  const after: Checkout = { label: 'after', dir: ROOT };
  if (!before) return [after];
  const dir = resolve(before);
  if (!existsSync(join(dir, 'packages/core/dist/index.js'))) throw new Error(`PLINTH_BEFORE=${before} is not a built plinth checkout (run npm ci && npm run build there)`);
  return [{ label: 'before', dir }, after];
}

/** Compiles bench/fixtures (tsconfig.compiled.json) and copies the output into every checkout. */
export function compileFixtures(): void {
  const out = join(ROOT, OUT);
  rmSync(out, { recursive: true, force: true });
  const tsc = spawnSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', join(ROOT, 'bench/fixtures/tsconfig.compiled.json')], {
    encoding: 'utf8',
  });
  if (tsc.status !== 0) throw new Error(`compiling the bench fixtures failed:\n${tsc.stdout}${tsc.stderr}`);
  for (const checkout of checkouts()) {
    if (checkout.dir === ROOT) continue;
    const target = join(checkout.dir, OUT);
    rmSync(target, { recursive: true, force: true });
    mkdirSync(target, { recursive: true });
    cpSync(out, target, { recursive: true });
  }
}

/** The compiled fixture `name` (e.g. 'plinth-min') inside a checkout. */
export function compiledFixture(checkout: Checkout | string, name: string): string {
  const dir = typeof checkout === 'string' ? checkout : checkout.dir;
  return join(dir, OUT, `${name}.js`);
}

export const THIS_CHECKOUT = ROOT;
