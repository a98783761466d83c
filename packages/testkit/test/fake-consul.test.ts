import assert from 'node:assert/strict';
import http from 'node:http';
import { after, describe, it } from 'node:test';
import { startFakeConsul, waitFor, type FakeConsul } from '../src/index.js';

const agents: FakeConsul[] = [];
after(() => Promise.all(agents.map((agent) => agent.close())));

async function agent(options: Parameters<typeof startFakeConsul>[0] = {}): Promise<FakeConsul> {
  const started = await startFakeConsul(options);
  agents.push(started);
  return started;
}

async function call(consul: FakeConsul, method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(`${consul.url}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  const json = res.headers.get('content-type') === 'application/json' && text !== '';
  return { status: res.status, index: res.headers.get('x-consul-index'), body: json ? (JSON.parse(text) as unknown) : text };
}

type HealthEntry = { Service: { ID: string; Port: number }; Checks: { CheckID: string; Status: string }[] };

describe('fake Consul agent', () => {
  it('starts a TTL check critical, follows pass/warn/fail/update, and filters ?passing', async () => {
    const consul = await agent();
    await call(consul, 'PUT', '/v1/agent/service/register', { ID: 'api-1', Name: 'api', Port: 81, Check: { TTL: '10s' } });
    assert.deepEqual((await call(consul, 'GET', '/v1/health/service/api?passing')).body, []);
    assert.equal((await call(consul, 'PUT', '/v1/agent/check/pass/service:api-1')).status, 200);
    const [entry] = (await call(consul, 'GET', '/v1/health/service/api?passing')).body as HealthEntry[];
    assert.equal(entry?.Service.Port, 81);
    await call(consul, 'PUT', '/v1/agent/check/warn/service:api-1');
    assert.deepEqual((await call(consul, 'GET', '/v1/health/service/api?passing')).body, []);
    await call(consul, 'PUT', '/v1/agent/check/update/service:api-1', { Status: 'passing', Output: 'ok' });
    assert.equal(((await call(consul, 'GET', '/v1/health/service/api?passing')).body as HealthEntry[]).length, 1);
    assert.equal((await call(consul, 'PUT', '/v1/agent/check/pass/service:nope')).status, 404);
  });

  it('turns a TTL check critical when its TTL runs out', async () => {
    const consul = await agent();
    await call(consul, 'PUT', '/v1/agent/service/register', { ID: 'a', Name: 'a', Check: { TTL: '100ms', Status: 'passing' } });
    await waitFor(() => consul.service('a')?.checks[0]?.status === 'critical', { timeoutMs: 2000 });
    assert.ok(consul.events.some((e) => e.type === 'check' && e.via === 'expired'));
  });

  it('holds a blocking query until the service changes, and answers at `wait` when nothing does', async () => {
    const consul = await agent();
    await call(consul, 'PUT', '/v1/agent/service/register', { ID: 'b-1', Name: 'b', Check: { TTL: '10s', Status: 'passing' } });
    const first = await call(consul, 'GET', '/v1/health/service/b');
    const index = Number(first.index);
    assert.ok(index > 0);
    const started = Date.now();
    const idle = await call(consul, 'GET', `/v1/health/service/b?index=${index}&wait=200ms`);
    assert.ok(Date.now() - started >= 190, 'waited for the wait time');
    assert.equal(Number(idle.index), index);
    const blocked = call(consul, 'GET', `/v1/health/service/b?index=${index}&wait=10s`);
    await call(consul, 'PUT', '/v1/agent/service/register', { ID: 'b-2', Name: 'b', Check: { TTL: '10s', Status: 'passing' } });
    const changed = await blocked;
    assert.ok(Number(changed.index) > index);
    assert.equal((changed.body as HealthEntry[]).length, 2);
  });

  it('runs HTTP checks against the registered URL on their interval', async () => {
    const consul = await agent();
    let status = 200;
    let hits = 0;
    const target = http.createServer((_req, res) => {
      hits += 1;
      res.writeHead(status).end();
    });
    await new Promise<void>((resolve) => target.listen(0, '127.0.0.1', resolve));
    const { port } = target.address() as { port: number };
    try {
      await call(consul, 'PUT', '/v1/agent/service/register', {
        ID: 'h',
        Name: 'h',
        Check: { HTTP: `http://127.0.0.1:${port}/health/ready`, Interval: '50ms', Timeout: '1s' },
      });
      await waitFor(() => consul.service('h')?.checks[0]?.status === 'passing', { timeoutMs: 2000 });
      status = 503;
      await waitFor(() => consul.service('h')?.checks[0]?.status === 'critical', { timeoutMs: 2000 });
      status = 429;
      await waitFor(() => consul.service('h')?.checks[0]?.status === 'warning', { timeoutMs: 2000 });
      assert.ok(hits >= 3);
    } finally {
      target.close();
    }
  });

  it('reaps a service critical for longer than DeregisterCriticalServiceAfter', async () => {
    const consul = await agent({ reapIntervalMs: 50, minDeregisterCriticalAfterMs: 0 });
    await call(consul, 'PUT', '/v1/agent/service/register', {
      ID: 'r',
      Name: 'r',
      Check: { TTL: '50ms', Status: 'passing', DeregisterCriticalServiceAfter: '200ms' },
    });
    await waitFor(() => consul.service('r') === undefined, { timeoutMs: 3000 });
    const expired = consul.events.find((e) => e.type === 'check' && e.via === 'expired');
    const reaped = consul.events.find((e) => e.type === 'reaped');
    assert.ok(expired && reaped && reaped.at - expired.at >= 190, 'reaped only after the critical period');
  });

  it('enforces Consul’s one-minute floor of DeregisterCriticalServiceAfter by default', async () => {
    const consul = await agent();
    await call(consul, 'PUT', '/v1/agent/service/register', { ID: 'f', Name: 'f', Check: { TTL: '1s', DeregisterCriticalServiceAfter: '1s' } });
    assert.equal(consul.service('f')?.checks[0]?.deregisterCriticalAfterMs, 60_000);
  });

  it('refuses requests without the configured ACL token, and records what was sent', async () => {
    const consul = await agent({ token: 's3cret-token' });
    assert.equal((await call(consul, 'GET', '/v1/agent/services')).status, 403);
    assert.equal((await call(consul, 'GET', '/v1/agent/services', undefined, { 'x-consul-token': 'wrong' })).status, 403);
    assert.equal((await call(consul, 'GET', '/v1/agent/services', undefined, { 'x-consul-token': 's3cret-token' })).status, 200);
    assert.equal((await call(consul, 'GET', '/v1/agent/services', undefined, { authorization: 'Bearer s3cret-token' })).status, 200);
    assert.deepEqual(consul.requests.map((r) => r.token), [undefined, 'wrong', 's3cret-token', 's3cret-token']);
  });

  it('goes down, hangs, comes back on the same port, forgets on restart, and moves an index backwards', async () => {
    const consul = await agent();
    await call(consul, 'PUT', '/v1/agent/service/register', { ID: 'x', Name: 'x', Check: { TTL: '10s' } });
    await consul.down();
    await assert.rejects(fetch(`${consul.url}/v1/status/leader`));
    await consul.up();
    consul.hang();
    await assert.rejects(fetch(`${consul.url}/v1/status/leader`, { signal: AbortSignal.timeout(200) }), { name: 'TimeoutError' });
    await consul.up();
    // A pooled socket the agent dropped may fail once; a fresh one gets an answer.
    await waitFor(async () => (await call(consul, 'GET', '/v1/status/leader')).status === 200, { timeoutMs: 2000 });
    assert.equal(consul.services().length, 1);
    const index = consul.indexOf('x');
    const blocked = call(consul, 'GET', `/v1/health/service/x?index=${index}&wait=300ms`);
    await waitFor(() => consul.requests.some((r) => r.query['index'] === String(index)));
    consul.setIndex('x', 1);
    // A lower index is no change to wake on: the query waits out `wait`, then reports it.
    assert.equal((await blocked).index, '1');
    consul.restart();
    assert.equal(consul.services().length, 0);
  });
});
