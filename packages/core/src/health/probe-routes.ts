import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { allowReadOnly, requestPath, respond, routePrefix, type RouteHandler } from '../http/route-handler.js';
import type { HealthMonitor } from './health-monitor.js';
import { isReady, type HealthReport, type ProbeAnswer } from './health-report.js';

export interface ProbeRouteOptions {
  /** Route prefix, `/health` by default: `/health`, `/health/live`, `/health/ready`, `/health/startup`. */
  readonly path: string;
  /** `always` shows failure details (redacted error text) to every caller. */
  readonly details: 'never' | 'always';
  /** A bearer token that unlocks details for one request. */
  readonly token: string | undefined;
}

const JSON_TYPE = 'application/json; charset=utf-8';

/**
 * The probe endpoints. Paths match without their query string, HEAD works like GET,
 * and responses carry `Cache-Control: no-store`. By default a failing check is named
 * with its status, criticality and latency only: error text can hold hostnames and
 * connection strings, so it needs `details: 'always'` or the token.
 */
/** The probe paths under a route prefix: the aggregate, live, ready and startup. */
export function probePaths(path: string): string[] {
  const base = routePrefix(path);
  return [base === '' ? '/' : base, `${base}/ready`, `${base}/live`, `${base}/startup`];
}

export function createProbeRoutes(monitor: HealthMonitor, options: ProbeRouteOptions): RouteHandler {
  const unlocks = tokenMatcher(options.token);
  const serialize = memoizedBody();
  const aggregate = (req: IncomingMessage): Answer | Promise<Answer> => {
    const details = options.details === 'always' || unlocks(req);
    const answer = (report: HealthReport): Answer => ({ ok: isReady(report.status), body: serialize(report, details) });
    // Most probes find a fresh cached result: answer them without a trip through promises.
    const now = monitor.reportNow();
    return now ? answer(now) : monitor.report().then(answer);
  };
  const fixed = (probe: () => ProbeAnswer) => (): Answer => {
    const { ok, body } = probe();
    return { ok, body: JSON.stringify(body) };
  };
  const [root, ready, live, startup] = probePaths(options.path) as [string, string, string, string];
  const routes = new Map<string, (req: IncomingMessage) => Answer | Promise<Answer>>([
    [root, aggregate],
    [ready, aggregate],
    [live, fixed(() => monitor.liveness())],
    [startup, fixed(() => monitor.startup())],
  ]);

  return (req, res) => {
    const route = routes.get(requestPath(req.url));
    if (!route) return false;
    if (!allowReadOnly(req, res)) return true;
    const send = ({ ok, body }: Answer): void => respond(req, res, ok ? 200 : 503, JSON_TYPE, body);
    const fail = (): void => respond(req, res, 503, JSON_TYPE, '{"status":"error"}');
    try {
      const answer = route(req);
      if (answer instanceof Promise) answer.then(send, fail);
      else send(answer);
    } catch {
      fail();
    }
    return true;
  };
}

/** A probe's answer with its body serialized. */
interface Answer {
  readonly ok: boolean;
  readonly body: string | Buffer;
}

/** Serializes a report once per (results, status, details): probes between check runs reuse the bytes. */
function memoizedBody(): (report: HealthReport, details: boolean) => Buffer {
  let last: { checks: HealthReport['checks']; status: string; details: boolean; body: Buffer } | undefined;
  return (report, details) => {
    if (last && last.checks === report.checks && last.status === report.status && last.details === details) return last.body;
    const body = Buffer.from(JSON.stringify(present(report, details)));
    last = { checks: report.checks, status: report.status, details, body };
    return body;
  };
}

function present(report: HealthReport, details: boolean): Record<string, unknown> {
  const checks = Object.fromEntries(
    Object.entries(report.checks).map(([id, check]) => [
      id,
      {
        status: check.status,
        critical: check.critical,
        latencyMs: check.latencyMs,
        ...(check.embedded ? { embedded: true } : {}),
        ...(details && check.error !== undefined ? { error: check.error } : {}),
      },
    ]),
  );
  return { status: report.status, checks };
}

/** Compares digests so neither the token's content nor its length leaks through timing. */
function tokenMatcher(token: string | undefined): (req: IncomingMessage) => boolean {
  if (!token) return () => false;
  const expected = createHash('sha256').update(token).digest();
  return (req) => {
    const match = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '');
    if (!match?.[1]) return false;
    return timingSafeEqual(createHash('sha256').update(match[1].trim()).digest(), expected);
  };
}
