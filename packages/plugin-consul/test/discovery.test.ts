import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { startFakeConsul, waitFor, type FakeConsul, type FakeConsulEvent, type SpawnedProcess } from '@plinth/testkit';
import { get, getJson, logLines, startPeer, type Peer, type ResolveAnswer } from './support.js';

const cleanups: (() => Promise<unknown>)[] = [];
after(() => Promise.all(cleanups.map((cleanup) => cleanup())));

async function fakeConsul(options: Parameters<typeof startFakeConsul>[0] = {}): Promise<FakeConsul> {
  const consul = await startFakeConsul(options);
  cleanups.push(() => consul.close());
  return consul;
}

async function peer(consul: FakeConsul, name: string, env: Record<string, string> = {}): Promise<Peer> {
  const started = await startPeer(consul, { PEER_APP_SERVICE_REGISTRY_SERVICE_NAME: name, ...env });
  cleanups.push(() => started.proc.kill());
  return started;
}

const resolveVia = (from: Peer, service: string): Promise<ResolveAnswer> => getJson<ResolveAnswer>(`${from.url}/resolve?service=${service}`);

function registeredPort(consul: FakeConsul, proc: SpawnedProcess, port: number): boolean {
  return proc.exitInfo === undefined && consul.services().some((s) => s.port === port && s.checks.every((c) => c.status === 'passing'));
}

describe('resolve and watch through Consul', () => {
  it('two apps resolve each other, and a third instance shows up through the watch within 1 s', async () => {
    const consul = await fakeConsul();
    const billing = await peer(consul, 'billing', { FIXTURE_WATCH: 'orders' });
    const orders = await peer(consul, 'orders');
    await waitFor(() => registeredPort(consul, billing.proc, billing.port) && registeredPort(consul, orders.proc, orders.port), { timeoutMs: 10_000 });

    const seenByBilling = await waitFor(async () => (await resolveVia(billing, 'orders')).instances.length === 1 && resolveVia(billing, 'orders'));
    assert.deepEqual(
      seenByBilling.instances.map((i) => [i.service, i.address, i.port, i.status]),
      [['orders', '127.0.0.1', orders.port, 'passing']],
    );
    const seenByOrders = await resolveVia(orders, 'billing');
    assert.deepEqual(seenByOrders.instances.map((i) => i.port), [billing.port]);
    assert.equal(seenByOrders.stale, false);

    await billing.proc.waitForLine((line) => typeof line === 'object' && line['msg'] === 'watch changed' && (line['ids'] as string[]).length === 1, 10_000);
    const second = await peer(consul, 'orders');
    const registered = await waitFor(() => consul.events.find((e): e is Extract<FakeConsulEvent, { type: 'register' }> => e.type === 'register' && e.port === second.port), { timeoutMs: 10_000 });
    const change = (await billing.proc.waitForLine(
      (line) => typeof line === 'object' && line['msg'] === 'watch changed' && (line['ids'] as string[]).includes(registered.serviceId),
      10_000,
    )) as Record<string, unknown>;
    const delay = Number(change['time']) - registered.at;
    assert.ok(delay <= 1000, `the watch saw the new instance ${delay} ms after it registered`);
    assert.equal((await resolveVia(billing, 'orders')).instances.length, 2);

    // pick round-robins over both.
    const picked = new Set<number>();
    for (let i = 0; i < 4; i++) picked.add((await getJson<{ port: number }>(`${billing.url}/pick?service=orders`)).port);
    assert.deepEqual([...picked].sort(), [orders.port, second.port].sort());

    // One blocking query per watched service: billing never had two `orders` queries in flight.
    const ordersQueries = consul.requests.filter((r) => r.path === '/v1/health/service/orders');
    assert.ok(ordersQueries.some((r) => r.query['index'] !== undefined && r.query['wait'] !== undefined), 'blocking queries carry index and wait');
  });

  it('keeps answering from the cache while Consul is down, and readiness stays 200 (degraded)', async () => {
    const consul = await fakeConsul();
    const billing = await peer(consul, 'billing');
    const orders = await peer(consul, 'orders');
    await waitFor(() => registeredPort(consul, orders.proc, orders.port), { timeoutMs: 10_000 });
    await waitFor(async () => (await resolveVia(billing, 'orders')).instances.length === 1);

    await consul.down();
    const stale = await waitFor(async () => {
      const answer = await resolveVia(billing, 'orders');
      return answer.stale && answer;
    }, { timeoutMs: 10_000 });
    assert.deepEqual(stale.instances.map((i) => i.port), [orders.port], 'the last known list is served');
    const later = await waitFor(async () => {
      const answer = await resolveVia(billing, 'orders');
      return answer.ageMs >= 200 && answer;
    });
    assert.ok(later.ageMs >= 200, 'its age grows');

    const ready = await get(`${billing.url}/health/ready`);
    assert.equal(ready.status, 200);
    assert.match(ready.body, /degraded/);
    // A service never looked up has nothing cached: it fails at once, it does not hang.
    const unknown = await get(`${billing.url}/resolve?service=payments`);
    assert.equal(unknown.status, 503);
    assert.match(unknown.body, /PluginUnavailableError|unavailable/);

    await consul.up();
    await waitFor(async () => !(await resolveVia(billing, 'orders')).stale, { timeoutMs: 10_000 });
    assert.equal((await get(`${billing.url}/health/ready`)).status, 200);
  });

  it('sends the ACL token with every request and never logs it', async () => {
    const token = 'b1f3c9e2-acl-token-7d4a';
    const consul = await fakeConsul({ token });
    const billing = await peer(consul, 'billing', { PEER_APP_SERVICE_REGISTRY_TOKEN: token, PEER_APP_LOG_LEVEL: 'debug' });
    await waitFor(() => registeredPort(consul, billing.proc, billing.port), { timeoutMs: 10_000 });
    await resolveVia(billing, 'billing');
    // Make it log failures too: the agent goes away for a moment.
    await consul.down();
    await waitFor(async () => (await resolveVia(billing, 'billing')).stale, { timeoutMs: 10_000 });
    await consul.up();
    await waitFor(async () => !(await resolveVia(billing, 'billing')).stale, { timeoutMs: 10_000 });
    billing.proc.signal('SIGTERM');
    await billing.proc.exited;

    // /v1/status/leader needs no ACL, and gets the token all the same.
    const agentCalls = consul.requests;
    assert.ok(agentCalls.some((r) => r.path === '/v1/status/leader'), 'the startup and health checks were among them');
    assert.ok(agentCalls.length >= 3);
    assert.ok(agentCalls.every((r) => r.token === token), 'every API call carried the token');
    assert.ok(consul.events.some((e) => e.type === 'deregister'), 'the token also works for deregistration');
    assert.ok(logLines(billing.proc, /failed/).length > 0, 'failures were logged');
    assert.ok(!billing.proc.stdout.includes(token) && !billing.proc.stderr.includes(token), 'the token never appears in the output');
  });

  it('a wrong token is refused and the app stays up, degraded', async () => {
    const consul = await fakeConsul({ token: 'right-token-123' });
    const billing = await peer(consul, 'billing', { PEER_APP_SERVICE_REGISTRY_TOKEN: 'wrong-token-456' });
    const ready = await billing.proc.waitForHttp(`${billing.url}/health/ready`, { status: 200, timeoutMs: 10_000 });
    assert.equal(consul.services().length, 0);
    await billing.proc.waitForLine(/Consul registration failed/, 10_000);
    assert.ok(ready.status === 200);
    assert.ok(!billing.proc.stdout.includes('wrong-token-456'));
  });
});
