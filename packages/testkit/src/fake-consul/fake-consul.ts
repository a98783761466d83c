import http from 'node:http';
import type { Socket } from 'node:net';
import { freePort } from '../ports.js';
import { AgentError, Catalog, parseGoDuration, type CheckStatus, type FakeCheck, type FakeService, type ServiceDefinition } from './catalog.js';

export type { CheckStatus, FakeCheck, FakeService } from './catalog.js';

/** Options for {@link startFakeConsul}. */
export interface FakeConsulOptions {
  /** ACL: when set, every API request must carry this token, else 403. */
  readonly token?: string;
  /** How often the reaper of DeregisterCriticalServiceAfter runs. Consul: 30 s. Default 30 000. */
  readonly reapIntervalMs?: number;
  /** Floor of DeregisterCriticalServiceAfter. Consul: 1 minute. Default 60 000. */
  readonly minDeregisterCriticalAfterMs?: number;
  /** Default: a free port. */
  readonly port?: number;
}

/** Something the agent did or was asked, with `Date.now()` times for ordering against a test's own. */
export type FakeConsulEvent =
  | { readonly type: 'register'; readonly at: number; readonly serviceId: string; readonly name: string; readonly address: string; readonly port: number }
  | { readonly type: 'deregister'; readonly at: number; readonly serviceId: string; readonly name: string }
  | { readonly type: 'reaped'; readonly at: number; readonly serviceId: string; readonly name: string }
  | { readonly type: 'check'; readonly at: number; readonly checkId: string; readonly status: CheckStatus; readonly via: 'ttl' | 'http' | 'expired' }
  | { readonly type: 'restart'; readonly at: number };

/** One HTTP request the agent received (the token only as "was it the right one"). */
export interface FakeConsulRequest {
  readonly at: number;
  readonly method: string;
  readonly path: string;
  readonly query: Readonly<Record<string, string>>;
  /** The X-Consul-Token header (or Bearer token) sent, verbatim. */
  readonly token: string | undefined;
}

/** A fake Consul agent: the endpoints plinth's Consul plugin uses, with Consul's semantics. */
export interface FakeConsul {
  readonly host: string;
  readonly port: number;
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  readonly events: readonly FakeConsulEvent[];
  readonly requests: readonly FakeConsulRequest[];
  /** The services registered now. */
  services(): FakeService[];
  service(id: string): FakeService | undefined;
  /** Stops listening and destroys every connection: clients get ECONNREFUSED. */
  down(): Promise<void>;
  /** Keeps accepting connections but answers nothing (a wedged agent). */
  hang(): void;
  /** Back to normal after `down()` or `hang()`, on the same port; hung requests are dropped. */
  up(): Promise<void>;
  /** An agent restart without its data directory: every registration is forgotten. */
  restart(): void;
  /** Sets a service's `X-Consul-Index` (lower than now, or 0); blocked queries see it when their wait ends. */
  setIndex(serviceName: string, index: number): void;
  indexOf(serviceName: string): number;
  close(): Promise<void>;
}

/** https://developer.hashicorp.com/consul/api-docs/features/blocking: wait defaults to 5 min, at most 10 min. */
const DEFAULT_WAIT_MS = 5 * 60_000;
const MAX_WAIT_MS = 10 * 60_000;

/**
 * Starts a fake Consul agent on loopback. It implements, after the Consul docs cited in
 * each handler: service register/deregister with `Check`/`Checks` and
 * DeregisterCriticalServiceAfter, TTL check updates, `GET /v1/health/service/:name` with
 * `passing` and blocking queries, `GET /v1/agent/services`, `GET /v1/status/leader`, HTTP
 * checks it really runs on their interval, TTL expiry, and ACL tokens when configured.
 */
export async function startFakeConsul(options: FakeConsulOptions = {}): Promise<FakeConsul> {
  const host = '127.0.0.1';
  const port = options.port ?? (await freePort(host));
  const catalog = new Catalog({
    reapIntervalMs: options.reapIntervalMs ?? 30_000,
    minDeregisterCriticalAfterMs: options.minDeregisterCriticalAfterMs ?? 60_000,
  });
  const events: FakeConsulEvent[] = [];
  const requests: FakeConsulRequest[] = [];
  const sockets = new Set<Socket>();
  const httpCheckTimers = new Map<string, NodeJS.Timeout>();
  const lifetime = new AbortController();
  let mode: 'up' | 'hung' | 'down' = 'up';
  let server: http.Server | undefined;

  const scheduleHttpChecks = (service: FakeService): void => {
    for (const check of service.checks) {
      if (check.kind !== 'http' || check.intervalMs === undefined || check.http === undefined) continue;
      stopHttpCheck(check.id);
      const run = (): void => {
        void runHttpCheck(check).then((status) => {
          if (catalog.services.get(service.id) !== service) return;
          if (check.status !== status) events.push({ type: 'check', at: Date.now(), checkId: check.id, status, via: 'http' });
          catalog.setStatus(check, status, `HTTP ${check.method} ${check.http}: ${status}`, Date.now());
        });
      };
      httpCheckTimers.set(check.id, setInterval(run, check.intervalMs));
      run();
    }
  };
  const stopHttpCheck = (checkId: string): void => {
    clearInterval(httpCheckTimers.get(checkId));
    httpCheckTimers.delete(checkId);
  };
  const stopChecksOf = (service: FakeService): void => {
    for (const check of service.checks) stopHttpCheck(check.id);
  };

  /**
   * https://developer.hashicorp.com/consul/docs/services/usage/checks (HTTP checks): 2xx is
   * passing, 429 Too Many Requests is warning, anything else or no answer within the
   * timeout is critical.
   */
  const runHttpCheck = (check: FakeCheck): Promise<CheckStatus> =>
    new Promise((resolve) => {
      const request = http.request(check.http!, { method: check.method, agent: false, signal: AbortSignal.any([AbortSignal.timeout(check.timeoutMs), lifetime.signal]) }, (res) => {
        res.resume();
        const code = res.statusCode ?? 0;
        resolve(code >= 200 && code < 300 ? 'passing' : code === 429 ? 'warning' : 'critical');
      });
      request.on('error', () => resolve('critical'));
      request.end();
    });

  const ticker = setInterval(() => {
    const now = Date.now();
    for (const service of catalog.services.values()) {
      for (const check of service.checks) {
        if (check.ttlExpiresAt !== undefined && check.ttlExpiresAt <= now && check.status !== 'critical') {
          events.push({ type: 'check', at: now, checkId: check.id, status: 'critical', via: 'expired' });
        }
      }
    }
    catalog.expireTtls(now);
  }, 20);
  const reaper = setInterval(() => {
    for (const service of catalog.reap(Date.now())) {
      stopChecksOf(service);
      events.push({ type: 'reaped', at: Date.now(), serviceId: service.id, name: service.name });
    }
  }, catalog.options.reapIntervalMs);

  /**
   * https://developer.hashicorp.com/consul/api-docs/api-structure#authentication: the token
   * comes in `X-Consul-Token` or `Authorization: Bearer`. With ACLs on and default deny, a
   * request without a valid token is refused with 403 (`ACL not found` for an unknown one).
   */
  const tokenOf = (req: http.IncomingMessage): string | undefined => {
    const header = req.headers['x-consul-token'];
    if (typeof header === 'string') return header;
    const auth = req.headers.authorization;
    return auth?.startsWith('Bearer ') ? auth.slice('Bearer '.length) : undefined;
  };
  const authorize = (token: string | undefined): void => {
    if (options.token === undefined) return;
    if (token === undefined || token === '') throw new AgentError(403, 'Permission denied: anonymous token lacks permission');
    if (token !== options.token) throw new AgentError(403, 'ACL not found');
  };

  const readJson = async (req: http.IncomingMessage): Promise<unknown> => {
    let text = '';
    for await (const chunk of req) text += String(chunk);
    if (text.trim() === '') return {};
    try {
      return JSON.parse(text);
    } catch {
      throw new AgentError(400, 'Request decode failed: invalid JSON');
    }
  };

  const send = (res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void => {
    const text = body === undefined ? '' : typeof body === 'string' ? body : JSON.stringify(body);
    res.writeHead(status, { 'content-type': typeof body === 'string' ? 'text/plain' : 'application/json', ...headers });
    res.end(text);
  };

  const checkStatusFromPath: Record<string, CheckStatus> = { pass: 'passing', warn: 'warning', fail: 'critical' };

  const route = async (req: http.IncomingMessage, res: http.ServerResponse, signal: AbortSignal): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://fake-consul');
    const query = Object.fromEntries(url.searchParams);
    const token = tokenOf(req);
    requests.push({ at: Date.now(), method: req.method ?? 'GET', path: url.pathname, query, token });
    const path = url.pathname;
    const method = req.method ?? 'GET';

    // https://developer.hashicorp.com/consul/api-docs/status#get-raft-leader: needs no ACL.
    if (method === 'GET' && path === '/v1/status/leader') return send(res, 200, '"127.0.0.1:8300"');
    authorize(token);

    if (method === 'PUT' && path === '/v1/agent/service/register') {
      const definition = (await readJson(req)) as ServiceDefinition;
      const previous = catalog.services.get(definition.ID || definition.Name || '');
      if (previous !== undefined) stopChecksOf(previous);
      const service = catalog.register(definition, Date.now());
      events.push({ type: 'register', at: Date.now(), serviceId: service.id, name: service.name, address: service.address, port: service.port });
      scheduleHttpChecks(service);
      return send(res, 200, undefined);
    }
    const deregister = /^\/v1\/agent\/service\/deregister\/(.+)$/.exec(path);
    if (method === 'PUT' && deregister) {
      const service = catalog.deregister(decodeURIComponent(deregister[1]!));
      stopChecksOf(service);
      events.push({ type: 'deregister', at: Date.now(), serviceId: service.id, name: service.name });
      return send(res, 200, undefined);
    }
    const ttl = /^\/v1\/agent\/check\/(pass|warn|fail|update)\/(.+)$/.exec(path);
    if (method === 'PUT' && ttl) {
      const checkId = decodeURIComponent(ttl[2]!);
      let status = checkStatusFromPath[ttl[1]!];
      let output = query['note'] ?? '';
      if (status === undefined) {
        // https://developer.hashicorp.com/consul/api-docs/agent/check#ttl-check-update
        const body = (await readJson(req)) as { Status?: string; Output?: string };
        if (!['passing', 'warning', 'critical'].includes(body.Status ?? '')) throw new AgentError(400, `Invalid status "${body.Status}"`);
        status = body.Status as CheckStatus;
        output = body.Output ?? '';
      }
      const before = catalog.findCheck(checkId).status;
      catalog.updateTtl(checkId, status, output, Date.now());
      if (before !== status) events.push({ type: 'check', at: Date.now(), checkId, status, via: 'ttl' });
      return send(res, 200, undefined);
    }
    // https://developer.hashicorp.com/consul/api-docs/agent/service#list-services
    if (method === 'GET' && path === '/v1/agent/services') {
      const body = Object.fromEntries(
        [...catalog.services.values()].map((s) => [s.id, { ID: s.id, Service: s.name, Tags: s.tags, Address: s.address, Port: s.port, Meta: s.meta }]),
      );
      return send(res, 200, body);
    }
    const health = /^\/v1\/health\/service\/(.+)$/.exec(path);
    if (method === 'GET' && health) return await serviceHealth(decodeURIComponent(health[1]!), query, res, signal);
    throw new AgentError(404, `no handler for ${method} ${path}`);
  };

  /**
   * https://developer.hashicorp.com/consul/api-docs/health#list-service-instances-for-service
   * with https://developer.hashicorp.com/consul/api-docs/features/blocking: with `index`
   * the request waits until the service's index is greater or `wait` passes (plus up to
   * wait/16 of jitter); the answer always carries `X-Consul-Index`.
   */
  const serviceHealth = async (name: string, query: Record<string, string>, res: http.ServerResponse, signal: AbortSignal): Promise<void> => {
    const index = query['index'] === undefined ? 0 : Number(query['index']);
    if (!Number.isSafeInteger(index) || index < 0) throw new AgentError(400, 'Invalid index');
    if (index > 0) {
      const wait = Math.min(query['wait'] === undefined ? DEFAULT_WAIT_MS : parseGoDuration(query['wait']), MAX_WAIT_MS);
      await catalog.waitForChange(name, index, wait + Math.random() * (wait / 16), signal);
    }
    const passingOnly = 'passing' in query && query['passing'] !== 'false';
    const body = catalog.healthEntries(name, passingOnly).map((s) => ({
      Node: { ID: 'fake-node-id', Node: 'fake-node', Address: host, Datacenter: 'dc1' },
      Service: { ID: s.id, Service: s.name, Tags: s.tags, Address: s.address, Port: s.port, Meta: s.meta },
      Checks: [
        { Node: 'fake-node', CheckID: 'serfHealth', Name: 'Serf Health Status', Status: 'passing', ServiceID: '', ServiceName: '' },
        ...s.checks.map((c) => ({ Node: 'fake-node', CheckID: c.id, Name: c.name, Status: c.status, Output: c.output, ServiceID: s.id, ServiceName: s.name })),
      ],
    }));
    if (!res.destroyed) send(res, 200, body, { 'x-consul-index': String(catalog.indexOf(name)) });
  };

  const handle = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    if (mode !== 'up') return; // hung: never answer
    const abort = new AbortController();
    res.on('close', () => abort.abort());
    route(req, res, AbortSignal.any([abort.signal, lifetime.signal])).catch((error: unknown) => {
      if (res.headersSent || res.destroyed) return;
      if (error instanceof AgentError) send(res, error.statusCode, error.message);
      else send(res, 500, error instanceof Error ? error.message : String(error));
    });
  };

  const listen = async (): Promise<void> => {
    const next = http.createServer(handle);
    next.keepAliveTimeout = 60_000;
    next.on('connection', (socket: Socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
    });
    await new Promise<void>((resolve, reject) => {
      next.once('error', reject);
      next.listen(port, host, () => resolve());
    });
    server = next;
  };

  const stopListening = async (): Promise<void> => {
    const current = server;
    server = undefined;
    for (const socket of sockets) socket.destroy();
    if (current !== undefined) await new Promise<void>((resolve) => current.close(() => resolve()));
  };

  await listen();

  return {
    host,
    port,
    url: `http://${host}:${port}`,
    events,
    requests,
    services: () => [...catalog.services.values()],
    service: (id) => catalog.services.get(id),
    async down() {
      mode = 'down';
      await stopListening();
    },
    hang() {
      mode = 'hung';
    },
    async up() {
      if (mode === 'hung') for (const socket of sockets) socket.destroy();
      if (server === undefined) await listen();
      mode = 'up';
    },
    restart() {
      for (const service of catalog.services.values()) stopChecksOf(service);
      catalog.forgetAll();
      for (const socket of sockets) socket.destroy();
      events.push({ type: 'restart', at: Date.now() });
    },
    setIndex: (name, index) => catalog.setIndex(name, index),
    indexOf: (name) => catalog.indexOf(name),
    async close() {
      lifetime.abort();
      clearInterval(ticker);
      clearInterval(reaper);
      for (const timer of httpCheckTimers.values()) clearInterval(timer);
      httpCheckTimers.clear();
      await stopListening();
    },
  };
}
