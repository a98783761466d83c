import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import { InjectPlugin, PluginUnavailableError, Service } from '@plinth/core';
import { OperationTimeoutError } from '@plinth/core/lifecycle';
import { createTestApp } from '@plinth/testing';
import { httpUpstream, UpstreamError, type HttpUpstreamPlugin } from '../src/index.js';
import { startUpstream, type UpstreamServer } from './upstream-server.js';

/** The value of the sample `name` with (at least) these labels, from Prometheus text. */
function sample(text: string, name: string, labels: Record<string, string>): number | undefined {
  for (const line of text.split('\n')) {
    const match = /^([a-z_:]+)\{(.*)\} (\S+)$/.exec(line);
    if (match?.[1] !== name) continue;
    const found = Object.fromEntries([...(match[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map(([, k, v]) => [k, v]));
    if (Object.entries(labels).every(([k, v]) => found[k] === v)) return Number(match[3]);
  }
  return undefined;
}

const breakerLabels = { plugin: 'http-upstream', prefix: 'billing_api', breaker: 'upstream' };

let upstream: UpstreamServer;
before(async () => {
  upstream = await startUpstream();
});
after(() => upstream.close());

const appWith = (settings: Record<string, unknown>, env: Record<string, string> = {}) =>
  createTestApp({ name: 'shop', plugins: [httpUpstream('billing_api', { settings })], env });

describe('http-upstream against a real HTTP server', () => {
  it('calls paths under the base URL with the bearer token from {APP}_{PREFIX}_TOKEN', async () => {
    await using test = await appWith({ url: upstream.url }, { SHOP_BILLING_API_TOKEN: 't0ken' });
    const billing = test.plugin('billing_api') as HttpUpstreamPlugin;
    const answer = await billing.get<{ path: string; auth: string }>('/invoices/7');
    assert.deepEqual(answer, { path: '/v1/invoices/7', auth: 'Bearer t0ken' });
    assert.equal(billing.target, `${new URL(upstream.url).host}/v1`);
  });

  it('retries 503 and succeeds within RETRIES, counting the retries', async () => {
    await using test = await appWith({ url: upstream.url, retries: 2 });
    const billing = test.plugin('billing_api') as HttpUpstreamPlugin;
    upstream.fail(503, 503);
    const before = upstream.received.length;
    await billing.get('/invoices');
    assert.equal(upstream.received.length - before, 3, 'two failed attempts, then the one that succeeded');
    assert.equal(billing.stats.retries, 2);
  });

  it('does not retry a 404: it is the answer', async () => {
    await using test = await appWith({ url: upstream.url });
    const billing = test.plugin('billing_api') as HttpUpstreamPlugin;
    upstream.fail(404);
    const before = upstream.received.length;
    await assert.rejects(() => billing.get('/missing'), (error: unknown) => UpstreamError.is(error) && error.status === 404);
    assert.equal(upstream.received.length - before, 1);
  });

  it('opens the circuit after BREAKER_FAILURES failed calls: degraded app, failing health, fast PluginUnavailableError', async () => {
    await using test = await appWith({ url: upstream.url, retries: 0, breakerFailures: 2, breakerCooldown: 60_000 });
    const billing = test.plugin('billing_api') as HttpUpstreamPlugin;
    upstream.fail(503, 503);
    await assert.rejects(() => billing.get('/a'), UpstreamError);
    await assert.rejects(() => billing.get('/b'), UpstreamError);
    assert.equal(billing.circuit, 'open');
    assert.equal(test.app.state, 'degraded');
    const sent = upstream.received.length;
    await assert.rejects(() => billing.get('/c'), (error: unknown) => PluginUnavailableError.is(error));
    assert.equal(upstream.received.length, sent, 'an open circuit sends nothing');
    await assert.rejects(() => billing.healthCheck({ signal: AbortSignal.timeout(1000) }), /circuit open/);
  });

  it('shows the open circuit in the app metrics and /health, and request durations by outcome', async () => {
    await using test = await appWith({ url: upstream.url, retries: 0, breakerFailures: 2, breakerCooldown: 60_000 });
    const billing = test.plugin('billing_api') as HttpUpstreamPlugin;
    const state = (text: string, name: string) => sample(text, 'plinth_breaker_state', { ...breakerLabels, state: name });
    assert.equal(state(await test.app.metrics.metrics(), 'closed'), 1);
    await billing.get('/invoices');
    upstream.fail(503, 503);
    await assert.rejects(() => billing.get('/a'), UpstreamError);
    await assert.rejects(() => billing.get('/b'), UpstreamError);
    await assert.rejects(() => billing.get('/c'), (error: unknown) => PluginUnavailableError.is(error));
    const text = await test.app.metrics.metrics();
    assert.equal(state(text, 'open'), 1);
    assert.equal(state(text, 'closed'), 0);
    assert.equal(sample(text, 'plinth_breaker_opened_total', breakerLabels), 1);
    assert.equal(sample(text, 'plinth_breaker_refused_total', breakerLabels), 1);
    const count = (outcome: string) => sample(text, 'plinth_http_upstream_request_duration_seconds_count', { plugin: 'http-upstream', prefix: 'billing_api', outcome });
    assert.deepEqual([count('ok'), count('error_status'), count('refused')], [1, 2, 1]);
    const health = await test.app.health.report();
    assert.equal(health.checks['billing_api.upstream breaker']?.status, 'down');
    assert.ok(test.events.some((e) => e.phase === 'breaker' && e.component === 'billing_api' && e.outcome === 'degraded'));
  });

  it('counts an attempt cut at TIMEOUT as a breaker timeout', async () => {
    const slow = await startUpstream((req, res) => {
      if (req.url?.endsWith('/health')) return void res.writeHead(200).end();
      setTimeout(() => res.writeHead(200).end(), 2000).unref();
    });
    try {
      await using test = await appWith({ url: slow.url, timeout: 100, retries: 1, breakerFailures: 2, breakerCooldown: 60_000 });
      const billing = test.plugin('billing_api') as HttpUpstreamPlugin;
      await assert.rejects(() => billing.get('/slow'), (error: unknown) => OperationTimeoutError.is(error));
      assert.equal(billing.circuit, 'open', 'both attempts timed out');
      const text = await test.app.metrics.metrics();
      assert.equal(sample(text, 'plinth_breaker_timeouts_total', breakerLabels), 2);
      assert.equal(sample(text, 'plinth_http_upstream_request_duration_seconds_count', { prefix: 'billing_api', outcome: 'failed' }), 1);
      assert.equal(test.app.state, 'degraded');
    } finally {
      await slow.close();
    }
  });

  it('closes the circuit after the cooldown when a trial call succeeds, and the app is ready again', async () => {
    await using test = await appWith({ url: upstream.url, retries: 0, breakerFailures: 1, breakerCooldown: 50 });
    const billing = test.plugin('billing_api') as HttpUpstreamPlugin;
    upstream.fail(502);
    await assert.rejects(() => billing.get('/a'), UpstreamError);
    assert.equal(test.app.state, 'degraded');
    await new Promise((resolve) => setTimeout(resolve, 80));
    await billing.get('/b');
    assert.equal(billing.circuit, 'closed');
    assert.equal(test.app.state, 'ready');
  });

  it('gives up an attempt after TIMEOUT', async () => {
    const slow = await startUpstream((req, res) => {
      if (req.url?.endsWith('/health')) return void res.writeHead(200).end();
      setTimeout(() => res.writeHead(200).end(), 2000).unref();
    });
    try {
      await using test = await appWith({ url: slow.url, timeout: 100, retries: 1 });
      const billing = test.plugin('billing_api') as HttpUpstreamPlugin;
      const started = performance.now();
      await assert.rejects(() => billing.get('/slow'));
      assert.equal(billing.stats.failedAttempts, 2, 'one attempt and one retry, each cut at the timeout');
      assert.ok(performance.now() - started < 1500, 'well before the upstream would have answered');
    } finally {
      await slow.close();
    }
  });

  it('fails startup at once, without retrying to the deadline, when a critical upstream refuses the token', async () => {
    const guarded = await startUpstream((_req, res) => void res.writeHead(401).end());
    try {
      const declared = httpUpstream('billing_api', { critical: true, settings: { url: guarded.url, token: 'wrong' } });
      await assert.rejects(() => createTestApp({ name: 'shop', plugins: [declared] }).then((t) => t.stop()), /refused the token \(401\)/);
      assert.equal(guarded.received.length, 1, 'one attempt: retrying cannot fix a token');
    } finally {
      await guarded.close();
    }
  });
});

describe('embedded fake', () => {
  @Service()
  class InvoiceTotals {
    constructor(@InjectPlugin('billing_api') readonly billing: HttpUpstreamPlugin) {}
    async total(id: number): Promise<number> {
      const invoice = await this.billing.get<{ lines: number[] }>(`/invoices/${id}`);
      return invoice.lines.reduce((sum, line) => sum + line, 0);
    }
  }

  it('answers from the fake when no URL is set, so a service test needs no server', async () => {
    await using test = await createTestApp({
      name: 'shop',
      plugins: [httpUpstream('billing_api', { fake: ({ path }) => ({ status: 200, body: { lines: path.endsWith('/1') ? [2, 3] : [] } }) })],
      services: [InvoiceTotals],
    });
    assert.equal((test.plugin('billing_api') as HttpUpstreamPlugin).embedded, true);
    assert.equal(await test.get<InvoiceTotals>(InvoiceTotals).total(1), 5);
  });

  it('is the test double httpUpstream.embedded(), which ignores a URL in the env', async () => {
    await using test = await createTestApp(
      { name: 'shop', plugins: [httpUpstream('billing_api', { settings: { url: upstream.url } })], services: [InvoiceTotals] },
      { plugins: { billing_api: httpUpstream.embedded() } },
    );
    const billing = test.plugin('billing_api') as HttpUpstreamPlugin;
    assert.equal(billing.embedded, true);
    await assert.rejects(() => billing.get('/invoices/1'), (error: unknown) => error instanceof UpstreamError && error.status === 404);
  });
});
