// Runs every bench/*.bench.ts in turn (never in parallel: they would skew each other),
// prints their tables and writes them to bench/RESULTS.md with the machine's facts.
// Exits non-zero if any benchmark fails, so a broken side cannot pass as a fast result.
import { spawnSync } from 'node:child_process';
import { readdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const only = process.argv.slice(2);
const files = readdirSync(here)
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => only.length === 0 || only.some((name) => f.includes(name)))
  .sort();

const sections = [];
let failed = 0;
for (const file of files) {
  console.log(`\n== ${file}`);
  const result = spawnSync(process.execPath, ['--import', 'tsx', join(here, file)], {
    cwd: join(here, '..'),
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    timeout: 15 * 60_000,
  });
  process.stdout.write(result.stdout ?? '');
  if (result.status !== 0) {
    failed += 1;
    console.error(`${file} failed (exit ${result.status ?? result.signal})`);
    sections.push(`## ${file}\n\nFAILED (exit ${result.status ?? result.signal})\n`);
  } else {
    sections.push(`## ${file}\n${result.stdout}`);
  }
}

const cpu = cpus();
const header = [
  '# Benchmark results',
  '',
  `Written by \`npm run bench\` on ${new Date().toISOString().slice(0, 10)}: ${cpu.length} × ${cpu[0]?.model ?? 'unknown CPU'}, ` +
    `${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}, ${process.platform}/${process.arch}.`,
  'Absolute times on a shared machine mean little; read the ratios, which compare sides measured in the same run.',
  '',
].join('\n');
if (only.length === 0) writeFileSync(join(here, 'RESULTS.md'), `${header}\n${sections.join('\n')}`);
process.exit(failed ? 1 : 0);
