import { readFileSync } from 'node:fs';
import http from 'node:http';
import { createRequire } from 'node:module';

/** The part of autocannon's result the benchmarks use (autocannon ships no types). */
export interface CannonResult {
  readonly requests: { readonly average: number };
  readonly latency: { readonly p99: number };
  readonly errors: number;
  readonly timeouts: number;
  readonly non2xx: number;
}

export const autocannon = createRequire(import.meta.url)('autocannon') as (options: {
  url: string;
  connections: number;
  duration: number;
}) => Promise<CannonResult>;

/** Small statistics helpers shared by the benchmarks. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

export function spread(values: readonly number[]): string {
  return `${Math.min(...values).toFixed(1)}–${Math.max(...values).toFixed(1)}`;
}

export interface Row {
  readonly case: string;
  readonly subject: string;
  readonly samples: readonly number[];
  readonly unit: string;
  /** Median of the baseline this row is compared against. */
  readonly baseline?: number;
}

/** Prints a Markdown table: median, spread and ratio to the baseline. */
export function printTable(title: string, rows: readonly Row[]): void {
  console.log(`\n### ${title}\n`);
  console.log('| case | subject | median | spread (min–max) | ratio to baseline |');
  console.log('|---|---|---|---|---|');
  for (const row of rows) {
    const m = median(row.samples);
    const ratio = row.baseline === undefined ? 'baseline' : `${(m / row.baseline).toFixed(3)}×`;
    console.log(`| ${row.case} | ${row.subject} | ${m.toFixed(1)} ${row.unit} | ${spread(row.samples)} | ${ratio} |`);
  }
}

/** A benchmark side that errors must fail the run, never pass as a fast result. */
export function failLoudly(error: unknown): never {
  console.error(error);
  process.exit(1);
}

/** One GET on a fresh connection: status, body and headers. */
export function get(url: string): Promise<{ status: number; body: string; headers: http.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { agent: false }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
        res.on('error', reject);
      })
      .on('error', reject);
  });
}

/** Resident memory of a process, in MB, from /proc/<pid>/status. */
export function rssMbOf(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('VmRSS:'));
  const kb = Number(line?.match(/(\d+)\s*kB/)?.[1]);
  if (!Number.isFinite(kb) || kb <= 0) throw new Error(`no VmRSS for pid ${pid}`);
  return kb / 1024;
}

/** The node flags of the example's start command (its package.json "start"), e.g. ["--max-semi-space-size=4"]. */
export function exampleStartFlags(): string[] {
  const manifest = JSON.parse(readFileSync(new URL('../apps/example-service/package.json', import.meta.url), 'utf8')) as { scripts: Record<string, string> };
  return (manifest.scripts['start'] ?? '').split(/\s+/).filter((arg) => arg.startsWith('--'));
}
