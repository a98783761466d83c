import type { ScenarioReport } from './scenarios.js';
import { KIND_LABEL, type KindReport, type RequestKind } from './mixed-load.js';

/** httplog's retries field: `+1` when the request was redispatched to another server. */
const RETRIED = / \d+\/\d+\/\d+\/\d+\/\+\d+ /;

/** Markdown tables of a scenario run: requests, events, replicas. */
export function formatReport(report: ScenarioReport): string {
  const { load, events } = report;
  const kinds: RequestKind[] = ['read', 'write'];
  const ms = (value: number | undefined): string => (value === undefined ? '–' : value < 10 ? value.toFixed(1) : value.toFixed(0));
  const latency = (kind: KindReport, phase: string): string => {
    const p = kind.latency[phase];
    return p ? `${ms(p.p50)} / ${ms(p.p99)}` : '–';
  };
  const failures = (kind: KindReport): string =>
    Object.entries(kind.failures)
      .map(([reason, n]) => `${n} ${reason}`)
      .join(', ') || '–';
  const title =
    report.kind === 'rolling'
      ? `Rolling restart of ${report.replicas} replicas behind HAProxy`
      : `SIGKILL of one of ${report.replicas} replicas behind HAProxy`;
  const all = load.all;

  const lines = [
    `${title}: ${report.connections} keep-alive connections, ${report.ratePerSecond} req/s asked, ` +
      `${load.achievedRate.toFixed(0)} req/s done over ${(load.durationMs / 1000).toFixed(0)} s` +
      (report.amqpCut ? `; RabbitMQ connections cut for ${report.amqpCut.ms} ms while ${report.amqpCut.during} was replaced` : '') +
      (report.failOpen ? '; HAProxy fails open' : ''),
    '',
    '| requests | sent | succeeded | failed | p50 / p99 ms before | p50 / p99 ms during | failures |',
    '|---|---:|---:|---:|---:|---:|---|',
    ...kinds.map((kind) => {
      const k = load.byKind[kind];
      return `| ${KIND_LABEL[kind]} | ${k.sent} | ${k.succeeded} | ${k.failed} | ${latency(k, 'before')} | ${latency(k, 'during')} | ${failures(k)} |`;
    }),
    `| all | ${all.sent} | ${all.succeeded} | ${all.failed} | ${latency(all, 'before')} | ${latency(all, 'during')} | ${failures(all)} |`,
    '',
    '| events | count |',
    '|---|---:|',
    `| users created (201s the client saw) | ${events.created} |`,
    `| users in the database | ${events.usersInDatabase} |`,
    `| events published (consumed + queued + dead-lettered) | ${events.eventsPublished} |`,
    `| events consumed (welcomed_users) | ${events.eventsConsumed} |`,
    `| duplicates seen by the consumer | ${events.duplicatesSeen} |`,
    `| 201'd users missing from the database | ${events.createdButMissing} |`,
    `| 201'd users without a consumed event | ${events.createdWithoutEvent} |`,
    `| users without a consumed event (lost) | ${events.usersWithoutEvent} |`,
    '',
    '| replica | signal | out of rotation | exited (code) | replacement in rotation |',
    '|---|---|---:|---:|---:|',
    ...report.replacements.map(
      (r) =>
        `| ${r.server} | ${r.signal} | ${(r.outOfRotationMs / 1000).toFixed(1)} s | ${(r.exitedMs / 1000).toFixed(1)} s (${r.exitCode ?? 'killed'}) | ${(r.backInRotationMs / 1000).toFixed(1)} s |`,
    ),
  ];
  if (load.failureSamples.length > 0) lines.push('', 'first failures:', ...load.failureSamples.slice(0, 5).map((line) => `  ${line}`));
  const retried = report.haproxyLog.filter((line) => RETRIED.test(line)).length;
  lines.push(
    '',
    `HAProxy: ${retried} request(s) retried on another replica; ${report.haproxyLog.length} logged as failed or retried. Rotation changes:`,
    ...report.haproxyStates.map((line) => `  ${line.replace(/, check duration.*$/, '')}`),
  );
  if (report.haproxyLog.length > 0) lines.push('first logged requests:', ...report.haproxyLog.slice(0, 5).map((line) => `  ${line}`));
  return lines.join('\n');
}
