// Resolution cost of a 20-service graph, compiled JS under plain node: plinth (createApp +
// start, then app.get) vs a raw inversify 8 container (the same graph, toSelf singletons, explicit @inject) vs plain
// constructors (the floor). (a) building and resolving the whole graph; (b) steady state,
// `get(Root).handle()` in a tight loop, so the cost of each singleton lookup shows, and
// `get(Root)` alone, the lookup by itself. Each side runs in its own process (see
// fixtures/resolution-side.ts); samples are taken from the sides in turn. Every built
// graph is checked: Root.handle() makes exactly the calls the graph implies, Root is a
// singleton. With PLINTH_BEFORE set, that checkout's plinth side runs in the same rounds.
import { fork, type ChildProcess } from 'node:child_process';
import { checkouts, compiledFixture, compileFixtures, THIS_CHECKOUT, type Checkout } from './compiled.js';
import { CALLS_PER_HANDLE, GRAPH } from './fixtures/service-graph.js';
import type { Job, Request, Response, SideName, WorkloadName } from './fixtures/resolution-side.js';
import { failLoudly, median, printTable, type Row } from './lib.js';

// Builds: batches of about BUILD_SAMPLE_MS. Calls: many short samples, taken in turns,
// so a burst of load elsewhere on the machine spoils few of them and the median holds.
const BUILD_RUNS = Number(process.env["RESOLUTION_BUILD_RUNS"] ?? 61);
const BUILD_SAMPLE_MS = 100;
const CALL_RUNS = Number(process.env["RESOLUTION_CALL_RUNS"] ?? 41);
const CALL_SAMPLE_MS = 25;

interface Side {
  readonly name: SideName;
  readonly subject: string;
  readonly checkout: Checkout | string;
}

const sides: readonly Side[] = [
  { name: 'plain', subject: 'plain constructors (floor)', checkout: THIS_CHECKOUT },
  { name: 'inversify', subject: 'inversify 8 container', checkout: THIS_CHECKOUT },
  ...checkouts().map((checkout) => ({
    name: 'plinth' as const,
    subject: `plinth (createApp + start + get)${checkouts().length > 1 ? `, ${checkout.label}` : ''}`,
    checkout,
  })),
];

const workloads: readonly { readonly name: WorkloadName; readonly label: string }[] = [
  { name: 'handle', label: 'get(Root).handle()' },
  { name: 'lookup', label: 'get(Root) alone' },
];

type Ask = (job: Job) => Promise<number>;

/** Forks one side and returns a function that asks it for a number. */
function startSide({ name, checkout }: Side): { ask: Ask; child: ChildProcess } {
  const child = fork(compiledFixture(checkout, 'resolution-side'), [name], { execArgv: [], stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  const pending = new Map<number, { resolve: (value: number) => void; reject: (error: Error) => void }>();
  let nextId = 0;
  child.on('message', (response: Response) => {
    const waiter = pending.get(response.id);
    pending.delete(response.id);
    if ('error' in response) waiter?.reject(new Error(`${name} side failed: ${response.error}`));
    else waiter?.resolve(response.value);
  });
  const failAll = (error: Error): void => {
    for (const waiter of pending.values()) waiter.reject(error);
    pending.clear();
  };
  child.on('exit', (code, signal) => failAll(new Error(`${name} side exited (${code ?? signal})`)));
  child.on('error', failAll);
  const ask: Ask = (job) =>
    new Promise((resolve, reject) => {
      if (!child.connected) return reject(new Error(`${name} side is not running`));
      const id = nextId++;
      pending.set(id, { resolve, reject });
      child.send({ ...job, id } satisfies Request);
    });
  return { ask, child };
}

/**
 * Side indexes for one round: every side in turn, starting one further each round, so
 * drift on a busy machine hits all alike. Round 0 is the warm-up and is not recorded.
 */
function turnOrder(round: number): number[] {
  return sides.map((_, i) => (i + round) % sides.length);
}

async function rounds(runs: number, sample: (side: number) => Promise<number>): Promise<number[][]> {
  const samples = sides.map(() => [] as number[]);
  for (let round = 0; round <= runs; round++) {
    for (const i of turnOrder(round)) {
      const value = await sample(i);
      if (round > 0) (samples[i] as number[]).push(value);
    }
  }
  return samples;
}

function rows(label: string, samples: number[][], unit: string): Row[] {
  const floor = median(samples[0] as number[]);
  return sides.map((side, i) => ({ case: label, subject: side.subject, samples: samples[i] as number[], unit, ...(i > 0 ? { baseline: floor } : {}) }));
}

async function main(): Promise<void> {
  compileFixtures();
  const started = sides.map((side) => startSide(side));
  try {
    const asks = started.map((s) => s.ask);
    const ask = (i: number): Ask => asks[i] as Ask;

    // (a) build + resolve.
    const buildCounts: number[] = [];
    for (const i of sides.keys()) buildCounts.push(await ask(i)({ op: 'calibrate-build', sampleMs: BUILD_SAMPLE_MS }));
    const buildSamples = await rounds(BUILD_RUNS, (i) => ask(i)({ op: 'build', count: buildCounts[i] as number }));

    // (b) steady state on one graph per side, built once.
    const callRows: Row[] = [];
    const handleSamples: number[][] = [];
    for (const workload of workloads) {
      const counts: number[] = [];
      for (const i of sides.keys()) counts.push(await ask(i)({ op: 'calibrate-calls', workload: workload.name, sampleMs: CALL_SAMPLE_MS }));
      const samples = await rounds(CALL_RUNS, (i) => ask(i)({ op: 'calls', workload: workload.name, count: counts[i] as number }));
      callRows.push(...rows(workload.label, samples, 'k/s'));
      if (workload.name === 'handle') handleSamples.push(...samples);
    }

    printTable(
      `Resolution (a): build and resolve the whole ${Object.keys(GRAPH).length}-service graph (mean µs per build; ${BUILD_RUNS} samples; lower is better)`,
      rows('build + resolve', buildSamples, 'µs'),
    );
    printTable(
      `Resolution (b): steady state, thousands of iterations per second, Root.handle() making ${CALLS_PER_HANDLE} calls (${CALL_RUNS} samples; higher is better, ratio < 1 is slower than plain)`,
      callRows,
    );
    console.log('');
    for (const [i, side] of sides.entries()) {
      if (side.name !== 'plinth') continue;
      const build = median(buildSamples[i] as number[]) / median(buildSamples[1] as number[]);
      const calls = median(handleSamples[i] as number[]) / median(handleSamples[0] as number[]);
      console.log(`- ${side.subject}: build + resolve ${build.toFixed(3)}× raw inversify; get(Root).handle() ${calls.toFixed(3)}× plain constructors`);
    }
  } finally {
    for (const { child } of started) child.disconnect();
  }
}

main().catch(failLoudly);
