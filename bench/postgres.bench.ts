// `select 1` through the postgres plugin vs raw postgres.js, same server, same pool size,
// same run, subjects taking turns (query by query for latency, run by run for throughput).
// Five subjects:
//   raw postgres.js            sql`select 1` on a plain client (the baseline)
//   plugin .sql                the plugin's postgres.js client (explicit options, tracked sockets)
//   raw drizzle                drizzle(client).execute(sql`select 1`) on that plain client
//   plugin .db                 the plugin's drizzle database (availability check + drizzle)
//   raw postgres.js (control)  a second plain client, created last, that drizzle never
//                              wraps: its ratio to the baseline shows the run's noise
// Latency: one query at a time (median and p99 per run). Throughput: CONCURRENCY callers
// in a loop for a fixed number of queries. Every answer is checked to be 1; any error
// fails the run (exit 1), so a broken side cannot pass as a fast one.
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { Writable } from 'node:stream';
import { createApp } from '@plinth/core';
import { postgres as postgresPlugin, type PostgresPlugin } from '@plinth/plugin-postgres';
import { sql as drizzleSql } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/postgres-js';
import postgres from 'postgres';
import { failLoudly, median, printTable, type Row } from './lib.js';

const URL = process.env['TEST_POSTGRES_URL'] || 'postgres://postgres@127.0.0.1:5432/test';
const POOL_MAX = 10;
// Many short runs, subjects in turn: a burst of load elsewhere on the machine spoils few
// runs of each subject alike, and the medians hold.
const RUNS = 21;
const LATENCY_QUERIES = 500;
const THROUGHPUT_QUERIES = 2_000;
const CONCURRENCY = 32;
const WARMUP_QUERIES = 1_000;
const silent = new Writable({ write: (_chunk, _encoding, done) => done() });

type Query = () => Promise<unknown>;
interface Subject {
  readonly name: string;
  readonly query: Query;
}

/** Postgres.js returns rows; drizzle's execute on postgres.js returns the same row list. */
function expectOne(result: unknown): void {
  const row = (result as readonly Record<string, unknown>[])[0];
  if (row?.['one'] !== 1) throw new Error(`select 1 answered ${JSON.stringify(result)}`);
}

/** One query per subject in turn, order rotating, so load elsewhere hits every subject alike. */
async function latencyRun(subjects: readonly Subject[]): Promise<Map<string, { median: number; p99: number }>> {
  const samples = subjects.map(() => new Float64Array(LATENCY_QUERIES));
  for (let i = 0; i < LATENCY_QUERIES; i++) {
    for (let k = 0; k < subjects.length; k++) {
      const index = (i + k) % subjects.length;
      const started = performance.now();
      expectOne(await (subjects[index] as Subject).query());
      (samples[index] as Float64Array)[i] = (performance.now() - started) * 1000;
    }
  }
  return new Map(
    subjects.map((subject, index) => {
      const sorted = (samples[index] as Float64Array).sort();
      return [subject.name, { median: median([...sorted]), p99: sorted[Math.floor(LATENCY_QUERIES * 0.99)] as number }];
    }),
  );
}

async function throughputRun(query: Query): Promise<number> {
  let issued = 0;
  const worker = async (): Promise<void> => {
    while (issued < THROUGHPUT_QUERIES) {
      issued++;
      expectOne(await query());
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return THROUGHPUT_QUERIES / ((performance.now() - started) / 1000);
}

async function main(): Promise<void> {
  const raw = postgres(URL, { max: POOL_MAX, onnotice: () => {} });
  // drizzle on the same client, as the plugin's .db shares its pool with .sql.
  const rawDrizzle = drizzle(raw);
  const app = createApp({
    name: 'bench',
    plugins: [postgresPlugin('primary_db')],
    env: { BENCH_PRIMARY_DB_URL: URL, BENCH_PRIMARY_DB_POOL_MAX: String(POOL_MAX), BENCH_LOG_LEVEL: 'warn' },
    logDestination: silent,
  });
  await app.start();
  const plugin = app.plugin('primary_db') as PostgresPlugin;
  const control = postgres(URL, { max: POOL_MAX, onnotice: () => {} });

  const subjects: Subject[] = [
    { name: 'raw postgres.js', query: () => raw`select 1 as one` },
    { name: 'plugin .sql', query: () => plugin.sql`select 1 as one` },
    { name: 'raw drizzle', query: () => rawDrizzle.execute(drizzleSql`select 1 as one`) },
    { name: 'plugin .db', query: () => plugin.db.execute(drizzleSql`select 1 as one`) },
    { name: 'raw postgres.js (control)', query: () => control`select 1 as one` },
  ];
  try {
    for (const subject of subjects) {
      for (let i = 0; i < WARMUP_QUERIES; i++) expectOne(await subject.query());
    }
    const medians = new Map<string, number[]>(subjects.map((s) => [s.name, []]));
    const p99s = new Map<string, number[]>(subjects.map((s) => [s.name, []]));
    const rates = new Map<string, number[]>(subjects.map((s) => [s.name, []]));
    for (let run = 0; run < RUNS; run++) {
      // Rotate the order so no subject always runs first (warm caches) or last.
      const order = subjects.map((_, i) => subjects[(i + run) % subjects.length] as Subject);
      for (const [name, latency] of await latencyRun(order)) {
        medians.get(name)?.push(latency.median);
        p99s.get(name)?.push(latency.p99);
      }
      // Forward then backward (ABCD DCBA): each subject sits at every position equally often.
      for (const subject of [...order, ...[...order].reverse()]) rates.get(subject.name)?.push(await throughputRun(subject.query));
    }

    const rowsOf = (values: Map<string, number[]>, unit: string, baselines: Record<string, string>): Row[] =>
      subjects.map((subject) => {
        const baseline = baselines[subject.name];
        return {
          case: baseline ? `vs ${baseline}` : 'baseline',
          subject: subject.name,
          samples: values.get(subject.name) ?? [],
          unit,
          ...(baseline ? { baseline: median(values.get(baseline) ?? []) } : {}),
        };
      });
    // The plugin's raw client is compared with raw postgres.js, its drizzle with raw drizzle.
    const pairs = {
      'plugin .sql': 'raw postgres.js',
      'plugin .db': 'raw drizzle',
      'raw postgres.js (control)': 'raw postgres.js',
    };
    console.log(
      `PostgreSQL at ${new globalThis.URL(URL).host}, pool of ${POOL_MAX}, ${RUNS} runs, subjects taking turns; ` +
        `load average ${loadavg().map((n) => n.toFixed(2)).join(' ')}.`,
    );
    printTable(`select 1 latency, median per run (${LATENCY_QUERIES} sequential queries per subject and run; lower is better)`, rowsOf(medians, 'µs', pairs));
    printTable(`select 1 latency, p99 per run (lower is better)`, rowsOf(p99s, 'µs', pairs));
    printTable(
      `select 1 throughput, per run (${THROUGHPUT_QUERIES} queries, ${CONCURRENCY} concurrent callers; higher is better)`,
      rowsOf(rates, 'q/s', pairs),
    );
    const ratio = (values: Map<string, number[]>, a: string, b: string): string =>
      (median(values.get(a) ?? []) / median(values.get(b) ?? [])).toFixed(3);
    console.log('\nRatios to the raw side (latency: >1 is slower; throughput: <1 is slower); the control shows the noise:');
    for (const [pluginSide, rawSide] of [...Object.entries(pairs), ['plugin .db', 'raw postgres.js']] as const) {
      console.log(
        `- ${pluginSide} / ${rawSide}: median latency ${ratio(medians, pluginSide, rawSide)}, p99 latency ${ratio(p99s, pluginSide, rawSide)}, throughput ${ratio(rates, pluginSide, rawSide)}`,
      );
    }
  } finally {
    await app.stop();
    await raw.end({ timeout: 5 });
    await control.end({ timeout: 5 });
  }
}

main().catch(failLoudly);
