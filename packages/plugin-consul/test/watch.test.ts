import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import pino from 'pino';
import { startFakeConsul, waitFor, type FakeConsul } from '@plinth/testkit';
import { ConsulClient } from '../src/consul-client.js';
import { ConsulDiscovery } from '../src/consul-discovery.js';
import { ServiceWatch } from '../src/service-watch.js';

const logger = pino({ level: 'silent' });
const cleanups: (() => unknown)[] = [];
after(async () => {
  for (const cleanup of cleanups) await cleanup();
});

async function setup(): Promise<{ consul: FakeConsul; client: ConsulClient; stop: AbortController }> {
  const consul = await startFakeConsul();
  const client = new ConsulClient(consul.url, undefined);
  const stop = new AbortController();
  cleanups.push(() => stop.abort(), () => client.destroy(), () => consul.close());
  return { consul, client, stop };
}

async function register(consul: FakeConsul, id: string, name: string, port: number, status = 'passing'): Promise<void> {
  const res = await fetch(`${consul.url}/v1/agent/service/register`, {
    method: 'PUT',
    body: JSON.stringify({ ID: id, Name: name, Address: '10.0.0.1', Port: port, Check: { TTL: '30s', Status: status } }),
  });
  assert.equal(res.status, 200);
}

const queriesOf = (consul: FakeConsul, name: string) => consul.requests.filter((r) => r.path === `/v1/health/service/${name}`);

describe('the watch of one service', () => {
  it('sends the last X-Consul-Index with a wait shortened by up to 1/16 at random', async () => {
    const { consul, client, stop } = await setup();
    await register(consul, 'a-1', 'a', 81);
    const watch = new ServiceWatch({ service: 'a', client, waitMs: 2000, requestTimeoutMs: 1000, logger, signal: stop.signal });
    await waitFor(() => watch.instances?.length === 1);
    await register(consul, 'a-2', 'a', 82);
    await waitFor(() => watch.instances?.length === 2);
    await waitFor(() => queriesOf(consul, 'a').length >= 3);
    const queries = queriesOf(consul, 'a');
    assert.equal(queries[0]?.query['index'], undefined, 'the first query does not block');
    const blocking = queries.slice(1);
    assert.ok(blocking.length >= 2);
    for (const query of blocking) {
      assert.ok(Number(query.query['index']) > 0);
      const wait = Number(/^(\d+)ms$/.exec(query.query['wait'] ?? '')?.[1]);
      assert.ok(wait <= 2000 && wait >= 2000 - 2000 / 16 - 1, `wait ${query.query['wait']} is the setting minus up to 1/16`);
    }
  });

  it('restarts with a non-blocking query when the index goes backwards', async () => {
    const { consul, client, stop } = await setup();
    await register(consul, 'b-1', 'b', 81);
    const watch = new ServiceWatch({ service: 'b', client, waitMs: 300, requestTimeoutMs: 1000, logger, signal: stop.signal });
    await waitFor(() => watch.index > 1);
    const before = queriesOf(consul, 'b').length;
    consul.setIndex('b', 1);
    // The blocked query ends at its wait with index 1, lower than the last: the next query
    // is a fresh one, without an index; after it the watch blocks on index 1.
    await waitFor(() => queriesOf(consul, 'b').slice(before).some((q) => q.query['index'] === undefined), { timeoutMs: 3000 });
    await waitFor(() => watch.index === 1 && queriesOf(consul, 'b').at(-1)?.query['index'] === '1', { timeoutMs: 3000 });
  });

  it('never sends an index of 0 back: 0 becomes 1, which blocks', async () => {
    const { consul, client, stop } = await setup();
    consul.setIndex('c', 0);
    const watch = new ServiceWatch({ service: 'c', client, waitMs: 5000, requestTimeoutMs: 1000, logger, signal: stop.signal });
    await waitFor(() => watch.instances !== undefined);
    await waitFor(() => queriesOf(consul, 'c').length >= 2);
    assert.equal(queriesOf(consul, 'c')[1]?.query['index'], '1');
    // And it blocks there instead of spinning.
    const count = queriesOf(consul, 'c').length;
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(queriesOf(consul, 'c').length, count);
    assert.equal(watch.index, 1);
  });

  it('keeps warning instances (after passing ones) and drops critical ones', async () => {
    const { consul, client, stop } = await setup();
    await register(consul, 'd-2', 'd', 82, 'warning');
    await register(consul, 'd-1', 'd', 81, 'passing');
    await register(consul, 'd-3', 'd', 83, 'critical');
    const watch = new ServiceWatch({ service: 'd', client, waitMs: 5000, requestTimeoutMs: 1000, logger, signal: stop.signal });
    await waitFor(() => watch.instances !== undefined);
    assert.deepEqual(
      watch.instances?.map((i) => [i.id, i.status]),
      [
        ['d-1', 'passing'],
        ['d-2', 'warning'],
      ],
    );
  });
});

describe('lookups', () => {
  it('honour an AbortSignal while the first answer is pending', async () => {
    const { consul, client } = await setup();
    consul.hang();
    const discovery = new ConsulDiscovery({ client, waitMs: 5000, requestTimeoutMs: 5000, logger, unavailable: (reason) => new Error(reason) });
    cleanups.push(() => discovery.close());
    const abort = new AbortController();
    const lookup = discovery.lookup('e', abort.signal);
    setTimeout(() => abort.abort(new Error('caller gave up')), 50);
    await assert.rejects(lookup, /caller gave up/);
  });

  it('fail fast when nothing is cached and the agent is down', async () => {
    const { consul, client } = await setup();
    await consul.down();
    const discovery = new ConsulDiscovery({ client, waitMs: 5000, requestTimeoutMs: 1000, logger, unavailable: (reason) => new Error(`unavailable: ${reason}`) });
    cleanups.push(() => discovery.close());
    await assert.rejects(discovery.lookup('f', new AbortController().signal), /unavailable: cannot list "f"/);
    const started = performance.now();
    await assert.rejects(discovery.lookup('f', new AbortController().signal), /unavailable/);
    assert.ok(performance.now() - started < 50, 'the second lookup does not wait for a new attempt');
  });
});
