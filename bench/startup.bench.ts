// Startup concurrency: time to ready for plugins with connect latency. plinth vs the
// hand-written limit (Promise.all for independent plugins, a sequence for a chain) vs a
// NestJS app of the same shape (providers connecting in onModuleInit). Every side calls
// the same `connect`, which records when each connection began and ended, and every run
// is checked: all connected, and each link of the chain only after its dependency.
import { performance } from 'node:perf_hooks';
import { Writable } from 'node:stream';
import { createApp, definePlugin, type HookContext, type PluginDeclaration } from '@plinth/core';
import { importDecorated } from './fixtures/import-decorated.js';
import type * as NestStartup from './fixtures/nest-startup.js';
import { failLoudly, median, printTable, type Row } from './lib.js';

type NestFixture = typeof NestStartup;

const LATENCY_MS = 200;
const RUNS = 7;
const silent = new Writable({ write: (_chunk, _encoding, done) => done() });

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => (clearTimeout(timer), reject(signal.reason as Error)), { once: true });
  });

interface Span {
  readonly name: string;
  readonly start: number;
  readonly end: number;
}
let spans: Span[] = [];

/** A connection that takes LATENCY_MS; every side connects through it. */
async function connect(name: string, signal?: AbortSignal): Promise<void> {
  const start = performance.now();
  await sleep(LATENCY_MS, signal);
  spans.push({ name, start, end: performance.now() });
}

/** Fails the run unless every name connected once and, for a chain, each after the previous. */
function checkSpans(subject: string, names: readonly string[], chain: boolean): void {
  const recorded = spans;
  spans = [];
  const connected = recorded.map((s) => s.name).sort();
  if (connected.join() !== [...names].sort().join()) throw new Error(`${subject}: connected [${connected}], expected [${names}]`);
  if (!chain) return;
  for (let i = 1; i < names.length; i++) {
    const dependency = recorded.find((s) => s.name === names[i - 1]) as Span;
    const dependent = recorded.find((s) => s.name === names[i]) as Span;
    if (dependent.start < dependency.end) throw new Error(`${subject}: ${names[i]} connected before ${names[i - 1]} was ready`);
  }
}

class Connecting {
  constructor(private readonly prefix: string) {}
  async preStart(ctx: HookContext): Promise<void> {
    await connect(this.prefix, ctx.signal);
  }
}
const connecting = definePlugin({ type: 'connecting', critical: true, settings: {}, create: (ctx) => new Connecting(ctx.prefix) });

/** createApp is inside the measured span too: building the graph is part of plinth's startup. */
async function plinthStartup(plugins: () => PluginDeclaration[]): Promise<number> {
  const started = performance.now();
  const app = createApp({ name: 'bench', plugins: plugins(), logDestination: silent, env: {} });
  await app.start();
  const elapsed = performance.now() - started;
  if (app.state !== 'ready') throw new Error(`plinth: state ${app.state} after start`);
  await app.stop();
  return elapsed;
}

interface Side {
  readonly subject: string;
  readonly run: () => Promise<number>;
}

/**
 * One warm-up run per side (module loading and JIT are not what this measures), then
 * RUNS rounds that take the sides in turn, so drift on a busy machine hits all alike.
 */
async function measure(names: readonly string[], chain: boolean, sides: readonly Side[]): Promise<number[][]> {
  const samples = sides.map(() => [] as number[]);
  for (let round = 0; round <= RUNS; round++) {
    for (const [i, side] of sides.entries()) {
      const elapsed = await side.run();
      checkSpans(side.subject, names, chain);
      if (round > 0) (samples[i] as number[]).push(elapsed);
    }
  }
  return samples;
}

function timed(run: () => Promise<void>): () => Promise<number> {
  return async () => {
    const started = performance.now();
    await run();
    return performance.now() - started;
  };
}

function nestSide(nest: NestFixture, subject: string, ...args: Parameters<NestFixture['nestApp']>): Side {
  const start = nest.nestApp(...args);
  return {
    subject,
    run: async () => {
      const { elapsedMs, close } = await start();
      await close();
      return elapsedMs;
    },
  };
}

async function main(): Promise<void> {
  const nest = await importDecorated<NestFixture>('nest-startup.ts');
  const independent = Array.from({ length: 6 }, (_, i) => `p${i}`);
  const chain = ['c0', 'c1', 'c2'];

  const independentSides: Side[] = [
    { subject: 'Promise.all (limit)', run: timed(async () => void (await Promise.all(independent.map((name) => connect(name))))) },
    { subject: 'plinth', run: () => plinthStartup(() => independent.map((p) => connecting(p))) },
    nestSide(nest, 'NestJS, a module per plugin', 'independent', independent, 'modules', connect),
    nestSide(nest, 'NestJS, all in one module', 'independent', independent, 'single', connect),
  ];
  const chainSides: Side[] = [
    { subject: 'sequential awaits (limit)', run: timed(async () => { for (const name of chain) await connect(name); }) },
    {
      subject: 'plinth',
      run: () => plinthStartup(() => chain.map((p, i) => connecting(p, i > 0 ? { dependsOn: [chain[i - 1] as string] } : {}))),
    },
    nestSide(nest, 'NestJS, a module per plugin (imports)', 'chain', chain, 'modules', connect),
    nestSide(nest, 'NestJS, all in one module', 'chain', chain, 'single', connect),
  ];

  const rows: Row[] = [];
  for (const [label, names, isChain, sides] of [
    [`6 independent × ${LATENCY_MS} ms`, independent, false, independentSides],
    [`chain of 3 × ${LATENCY_MS} ms`, chain, true, chainSides],
  ] as const) {
    const samples = await measure(names, isChain, sides);
    const limit = median(samples[0] as number[]);
    for (const [i, side] of sides.entries()) {
      rows.push({ case: label, subject: side.subject, samples: samples[i] as number[], unit: 'ms', ...(i > 0 ? { baseline: limit } : {}) });
    }
  }
  printTable(`Startup concurrency (begin start → ready; ${RUNS} runs; ratio to the limit of the same case)`, rows);
}

main().catch(failLoudly);
