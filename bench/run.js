// Runs every bench/*.bench.ts in turn (never in parallel: they would skew each other),
// prints their tables and writes them to bench/RESULTS.md with the machine's facts.
// Arguments pick benchmarks by part of their file name (`cost` names the framework's own
// cost: cold start, resolution, /health/ready); then only their sections of RESULTS.md are
// replaced. Exits non-zero if any benchmark fails, so a broken side cannot pass as a fast result.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const GROUPS = { cost: ['cold-start', 'resolution', 'health-ready'] };
const only = process.argv.slice(2).flatMap((name) => GROUPS[name] ?? [name]);
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
const resultsFile = join(here, 'RESULTS.md');
if (only.length === 0 || !existsSync(resultsFile)) {
  writeFileSync(resultsFile, `${header}\n${sections.join('\n')}`);
} else {
  // Replace the sections of the benchmarks that ran, keep the others, and say when these ran.
  const [head, ...old] = readFileSync(resultsFile, 'utf8').split(/^(?=## )/m);
  const fresh = new Map(sections.map((section) => [section.slice(3, section.indexOf('\n')), section]));
  const kept = old.map((section) => fresh.get(section.slice(3, section.indexOf('\n'))) ?? section);
  for (const [name, section] of fresh) if (!old.some((s) => s.startsWith(`## ${name}\n`))) kept.push(section);
  const note = `Sections ${[...fresh.keys()].join(', ')} rewritten by \`node bench/run.js ${process.argv.slice(2).join(' ')}\` on ${new Date().toISOString().slice(0, 10)}: ${cpu.length} × ${cpu[0]?.model ?? 'unknown CPU'}, Node ${process.version}.\n`;
  writeFileSync(resultsFile, `${head.replace(/\nSections [^\n]*rewritten by[^\n]*\n/g, '\n').trimEnd()}\n${note}\n${kept.map((s) => `${s.trimEnd()}\n`).join('\n')}`);
}
process.exit(failed ? 1 : 0);
