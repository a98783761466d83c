import { randomBytes } from 'node:crypto';
import { startKeepAliveLoad, type LoadRequest, type LoadResult } from '@plinth/testkit';

export type RequestKind = 'read' | 'write';
export const KIND_LABEL: Record<RequestKind, string> = { read: 'GET /users/:id', write: 'POST /users' };
/** What each kind must answer: reads only fetch users a 201 announced, writes use fresh emails. */
const EXPECTED_STATUS: Record<RequestKind, number> = { read: 200, write: 201 };

export interface MixedLoadOptions {
  /** HAProxy's URL. */
  readonly url: string;
  readonly ratePerSecond: number;
  /** Keep-alive connections (each one request at a time). */
  readonly connections: number;
  /** Share of requests that are POST /users (0..1). */
  readonly writeShare: number;
  /** Give up on a request after this long (it counts as failed). Default 20 s. */
  readonly requestTimeoutMs?: number;
}

export interface KindReport {
  readonly sent: number;
  readonly succeeded: number;
  readonly failed: number;
  /** Why requests failed: `status 502`, `resetOnReusedSocket`, `other` … with counts. */
  readonly failures: Readonly<Record<string, number>>;
  /** Latency in ms per phase (the phase current when the request was sent). */
  readonly latency: Readonly<Record<string, Percentiles>>;
}

export interface Percentiles {
  readonly count: number;
  readonly p50: number;
  readonly p99: number;
}

export interface MixedLoadReport {
  readonly durationMs: number;
  /** Requests completed per second over the whole run. */
  readonly achievedRate: number;
  readonly byKind: Readonly<Record<RequestKind, KindReport>>;
  /** Reads and writes together. */
  readonly all: KindReport;
  /** User ids from the 201 responses. */
  readonly createdIds: readonly number[];
  /** A few failure messages, for the log. */
  readonly failureSamples: readonly string[];
}

/** A steady mix of reads and writes through HAProxy, counted by kind and by phase. */
export interface MixedLoad {
  /** Requests sent from now on belong to `phase` (the load starts in `warmup`). */
  mark(phase: string): void;
  /** User ids created so far. */
  readonly createdIds: readonly number[];
  stop(): Promise<MixedLoadReport>;
}

interface KindCounts {
  sent: number;
  succeeded: number;
  failures: Record<string, number>;
  latencies: Record<string, number[]>;
}

export function startMixedLoad(options: MixedLoadOptions): MixedLoad {
  const runId = randomBytes(4).toString('hex');
  const createdIds: number[] = [];
  const counts: Record<RequestKind, KindCounts> = { read: emptyCounts(), write: emptyCounts() };
  const failureSamples: string[] = [];
  let phase = 'warmup';
  let written = 0;
  let credit = 0;

  // Deterministic interleaving: every request adds writeShare of credit; a full unit is a write.
  const nextRequest = (): LoadRequest => {
    credit += options.writeShare;
    if (credit >= 1 || createdIds.length === 0) {
      credit = Math.max(0, credit - 1);
      const n = ++written;
      const body = JSON.stringify({ name: `Load ${n}`, email: `load-${runId}-${n}@example.com` });
      return { label: `write:${phase}`, method: 'POST', path: '/users', body, headers: { 'content-type': 'application/json' } };
    }
    const id = createdIds[Math.floor(Math.random() * createdIds.length)];
    return { label: `read:${phase}`, method: 'GET', path: `/users/${id}` };
  };

  const onResult = (result: LoadResult): void => {
    const [kind, sentIn] = (result.request.label ?? 'read:warmup').split(':') as [RequestKind, string];
    const tally = counts[kind];
    tally.sent++;
    if (result.status === EXPECTED_STATUS[kind]) {
      tally.succeeded++;
      (tally.latencies[sentIn] ??= []).push(result.latencyMs);
      if (kind === 'write') {
        const id = (JSON.parse(result.body ?? '{}') as { id?: unknown }).id;
        if (typeof id === 'number') createdIds.push(id);
      }
      return;
    }
    const reason = result.failure ?? `status ${result.status}`;
    tally.failures[reason] = (tally.failures[reason] ?? 0) + 1;
    if (failureSamples.length < 20) {
      failureSamples.push(`${result.request.method} ${result.request.path} (${sentIn}): ${result.error ?? `${result.status} ${(result.body ?? '').replace(/<[^>]*>/g, ' ').replace(/\s+/g, ' ').trim().slice(0, 100)}`}`);
    }
  };

  const load = startKeepAliveLoad({
    url: options.url,
    connections: options.connections,
    ratePerSecond: options.ratePerSecond,
    nextRequest,
    onResult,
    requestTimeoutMs: options.requestTimeoutMs ?? 20_000,
    maxDurationMs: 24 * 3600_000,
  });

  return {
    mark(next) {
      phase = next;
    },
    createdIds,
    async stop() {
      const report = await load.stop();
      const byKind = { read: kindReport(counts.read), write: kindReport(counts.write) };
      const all = kindReport(mergeCounts(counts.read, counts.write));
      return {
        durationMs: report.durationMs,
        achievedRate: all.sent / (report.durationMs / 1000),
        byKind,
        all,
        createdIds: [...createdIds],
        failureSamples,
      };
    },
  };
}

function emptyCounts(): KindCounts {
  return { sent: 0, succeeded: 0, failures: {}, latencies: {} };
}

function mergeCounts(a: KindCounts, b: KindCounts): KindCounts {
  const merged = emptyCounts();
  for (const counts of [a, b]) {
    merged.sent += counts.sent;
    merged.succeeded += counts.succeeded;
    for (const [reason, n] of Object.entries(counts.failures)) merged.failures[reason] = (merged.failures[reason] ?? 0) + n;
    for (const [phase, samples] of Object.entries(counts.latencies)) (merged.latencies[phase] ??= []).push(...samples);
  }
  return merged;
}

function kindReport(counts: KindCounts): KindReport {
  const latency: Record<string, Percentiles> = {};
  for (const [phase, samples] of Object.entries(counts.latencies)) latency[phase] = percentiles(samples);
  return { sent: counts.sent, succeeded: counts.succeeded, failed: counts.sent - counts.succeeded, failures: counts.failures, latency };
}

export function percentiles(samples: readonly number[]): Percentiles {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number): number => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? 0;
  return { count: sorted.length, p50: at(0.5), p99: at(0.99) };
}
