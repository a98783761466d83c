import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { sleep, startFakeConsul, waitFor, type FakeConsul, type FakeConsulEvent, type SpawnedProcess } from '@plinth/testkit';
import { get, logTime, startPeer } from './support.js';

const cleanups: (() => Promise<unknown>)[] = [];
after(() => Promise.all(cleanups.map((cleanup) => cleanup())));

async function fakeConsul(options: Parameters<typeof startFakeConsul>[0] = {}): Promise<FakeConsul> {
  const consul = await startFakeConsul(options);
  cleanups.push(() => consul.close());
  return consul;
}

function track(proc: SpawnedProcess): SpawnedProcess {
  cleanups.push(() => proc.kill());
  return proc;
}

type Of<T extends FakeConsulEvent['type']> = Extract<FakeConsulEvent, { type: T }>;
const eventsOf = <T extends FakeConsulEvent['type']>(consul: FakeConsul, type: T): Of<T>[] =>
  consul.events.filter((e): e is Of<T> => e.type === type);

describe('registration follows readiness', () => {
  it('registers only once the app is ready, with the port its server really listens on', async () => {
    const consul = await fakeConsul();
    const peer = await startPeer(consul, { FIXTURE_START_DELAY_MS: '700', PEER_APP_SERVICE_REGISTRY_SERVICE_NAME: 'orders' });
    track(peer.proc);
    const listeningAt = logTime(peer.proc, /HTTP server listening/)!;
    // Listening, but one onStart still runs: nothing may be registered yet.
    await sleep(300);
    assert.deepEqual(eventsOf(consul, 'register'), [], 'registered before the app was ready');
    const [registered] = await waitFor(() => (eventsOf(consul, 'register').length > 0 ? eventsOf(consul, 'register') : undefined), { timeoutMs: 10_000 });
    const readyAt = logTime(peer.proc, /peer-app started/)!;
    assert.ok(readyAt !== undefined);
    assert.ok(registered!.at >= readyAt, `registered at ${registered!.at}, ready at ${readyAt}`);
    assert.ok(registered!.at - listeningAt >= 650, 'waited for the slow onStart after the server listened');
    assert.equal(registered!.port, peer.port);
    assert.notEqual(peer.port, 0);
    assert.equal(registered!.address, '127.0.0.1');
    assert.equal(registered!.name, 'orders');
    const service = consul.service(registered!.serviceId)!;
    assert.equal(service.checks[0]?.status, 'passing', 'a ready app reports passing');
    assert.equal(service.checks[0]?.kind, 'ttl');
  });

  it('deregisters at the start of shutdown, while the listener still accepts connections', async () => {
    const consul = await fakeConsul();
    const peer = await startPeer(consul, { PEER_APP_SHUTDOWN_DELAY: '400ms' });
    track(peer.proc);
    await waitFor(() => consul.services().length === 1, { timeoutMs: 10_000 });

    // A client opening a fresh connection every few ms, as one that resolved this instance would.
    // lastAccepted is when the newest answered connection was opened, not when its answer came:
    // one opened before the deregistration and answered after it proves nothing.
    let lastAccepted = 0;
    let firstRefused = 0;
    let probing = true;
    const prober = (async () => {
      while (probing) {
        const openedAt = Date.now();
        try {
          await get(`${peer.url}/health/live`, 500);
          lastAccepted = openedAt;
        } catch {
          if (firstRefused === 0) firstRefused = Date.now();
        }
        await sleep(5);
      }
    })();
    await waitFor(() => lastAccepted > 0);
    peer.proc.signal('SIGTERM');
    const exit = await peer.proc.exited;
    probing = false;
    await prober;

    assert.equal(exit.code, 0);
    const [deregistered] = eventsOf(consul, 'deregister');
    assert.ok(deregistered, 'deregistered');
    assert.ok(deregistered.at < lastAccepted, `deregistered at ${deregistered.at}, last connection accepted at ${lastAccepted}`);
    assert.ok(firstRefused === 0 || deregistered.at < firstRefused);
    assert.equal(consul.services().length, 0);
  });

  it('a SIGKILLed instance disappears once its check has been critical for DEREGISTER_CRITICAL_AFTER', async () => {
    const consul = await fakeConsul({ reapIntervalMs: 50, minDeregisterCriticalAfterMs: 0 });
    const peer = await startPeer(consul, {
      PEER_APP_SERVICE_REGISTRY_CHECK_INTERVAL: '200ms',
      PEER_APP_SERVICE_REGISTRY_DEREGISTER_CRITICAL_AFTER: '500ms',
    });
    track(peer.proc);
    const service = await waitFor(() => consul.services()[0], { timeoutMs: 10_000 });
    assert.equal(service.checks[0]?.deregisterCriticalAfterMs, 500);
    await peer.proc.kill();
    const killedAt = Date.now();
    await waitFor(() => consul.services().length === 0, { timeoutMs: 5000, message: 'the crashed instance is reaped' });
    const [reaped] = eventsOf(consul, 'reaped');
    assert.equal(reaped?.serviceId, service.id);
    const expired = consul.events.find((e) => e.type === 'check' && e.via === 'expired');
    assert.ok(expired && expired.at >= killedAt - 50, 'the TTL ran out after the kill');
    assert.ok(reaped.at - expired.at >= 450, 'reaped only after staying critical for DEREGISTER_CRITICAL_AFTER');
    assert.equal(eventsOf(consul, 'deregister').length, 0, 'nobody deregistered it: the agent reaped it');
  });

  for (const check of ['ttl', 'http'] as const) {
    it(`registers again within one check interval when the agent forgets it (${check} check)`, async () => {
      const consul = await fakeConsul();
      const intervalMs = 500;
      const peer = await startPeer(consul, { PEER_APP_SERVICE_REGISTRY_CHECK: check, PEER_APP_SERVICE_REGISTRY_CHECK_INTERVAL: `${intervalMs}ms` });
      track(peer.proc);
      await waitFor(() => consul.services()[0]?.checks[0]?.status === 'passing', { timeoutMs: 10_000 });
      consul.restart();
      const restartedAt = Date.now();
      const again = await waitFor(() => eventsOf(consul, 'register').find((e) => e.at >= restartedAt), { timeoutMs: 5000 });
      // The next beat (at most one interval away) finds the registration gone; scheduling slack aside.
      assert.ok(again.at - restartedAt <= intervalMs + 250, `registered again ${again.at - restartedAt} ms after the restart`);
      assert.equal(again.port, peer.port);
      await waitFor(() => consul.services()[0]?.checks[0]?.status === 'passing', { timeoutMs: 5000 });
      assert.match(peer.proc.stdout, /Consul forgot this instance/);
    });
  }

  it('reports degraded as warning and back, with a TTL check', async () => {
    const consul = await fakeConsul();
    const peer = await startPeer(consul, { PEER_APP_SERVICE_REGISTRY_CHECK_INTERVAL: '200ms' });
    track(peer.proc);
    const service = await waitFor(() => consul.services()[0], { timeoutMs: 10_000 });
    // The agent hangs: the plugin marks itself unavailable, so the app goes degraded; once
    // the agent answers again the first report it gets is `warning`, then `passing`.
    consul.hang();
    await peer.proc.waitForLine(/"to":"degraded"/, 10_000);
    await consul.up();
    await peer.proc.waitForLine(/"to":"ready"/, 10_000);
    await waitFor(() => consul.service(service.id)?.checks[0]?.status === 'passing', { timeoutMs: 5000 });
    const statuses = eventsOf(consul, 'check')
      .filter((e) => e.via === 'ttl')
      .map((e) => e.status);
    assert.deepEqual(statuses.slice(-2), ['warning', 'passing']);
  });
});

describe('shutdown with Consul in trouble', () => {
  it('a hung agent delays shutdown by at most DEREGISTER_TIMEOUT', async () => {
    const consul = await fakeConsul();
    // A request alone would wait 10 s: only the deregistration deadline can cut it short.
    const peer = await startPeer(consul, { PEER_APP_SERVICE_REGISTRY_DEREGISTER_TIMEOUT: '300ms', PEER_APP_SERVICE_REGISTRY_REQUEST_TIMEOUT: '10s' });
    track(peer.proc);
    await waitFor(() => consul.services().length === 1, { timeoutMs: 10_000 });
    consul.hang();
    const started = Date.now();
    peer.proc.signal('SIGTERM');
    const exit = await peer.proc.exited;
    const took = Date.now() - started;
    assert.equal(exit.code, 0);
    const shuttingDown = logTime(peer.proc, /shutting down/)!;
    const stopped = logTime(peer.proc, /stopped cleanly/)!;
    assert.ok(stopped - shuttingDown < 2000, `shutdown took ${stopped - shuttingDown} ms inside the app (${took} ms to exit)`);
    assert.equal(consul.services().length, 1, 'the hung agent never got the deregistration');
  });
});

describe('Consul down at startup', () => {
  it('serves degraded, then registers and starts its watches once the agent is back', async () => {
    const consul = await fakeConsul();
    await consul.down();
    // The app watches its own service from an onStart, while the agent is still down.
    const peer = await startPeer(consul, { FIXTURE_WATCH: 'peer-app' });
    track(peer.proc);
    const ready = await peer.proc.waitForHttp(`${peer.url}/health/ready`, { status: 200, timeoutMs: 10_000 });
    assert.match(ready.body, /degraded/);
    await sleep(300);
    assert.equal(eventsOf(consul, 'register').length, 0);
    assert.equal(peer.proc.lines.filter((l) => typeof l === 'object' && l['msg'] === 'watch changed').length, 0, 'nothing to report while the agent is down');
    await consul.up();
    const registered = await waitFor(() => eventsOf(consul, 'register')[0], { timeoutMs: 10_000 });
    assert.equal(registered.port, peer.port);
    await peer.proc.waitForLine(/"to":"ready"/, 10_000);
    // The watch begun during the outage now answers, and sees this instance.
    await peer.proc.waitForLine((line) => typeof line === 'object' && line['msg'] === 'watch changed' && (line['ids'] as string[]).includes(registered.serviceId), 10_000);
  });
});
