import { strict as assert } from 'node:assert';
import type http from 'node:http';
import { afterEach, describe, it } from 'node:test';
import { definePlugin, type App } from '../src/index.js';
import { apiKeys, requestIds } from '../src/handlers/index.js';
import type { RequestHandler } from '../src/http/index.js';
import { request } from './fixtures/harness.js';
import { moduleFolder } from './support/plugin-module.js';
import { testApp } from './support/scripted-plugin.js';

/** A plugin that contributes the given handlers. */
const handlersPlugin = definePlugin<Record<string, never>, object, { handlers: RequestHandler[] }>({
  type: 'test-handlers',
  critical: false,
  settings: {},
  create: (ctx) => {
    for (const handler of ctx.options.handlers) ctx.app.addRequestHandler(handler);
    return {};
  },
});

const apps: App[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((app) => app.stop()));
});

/** Starts an app with `plugins` and serves a route that records each call and logs a line. */
async function serve(options: Parameters<typeof testApp>[0]) {
  const { app, logs } = testApp(options);
  apps.push(app);
  await app.start();
  const served: string[] = [];
  const server: http.Server = await app.serveHttp((req, res) => {
    served.push(req.url ?? '');
    app.logger.info({ url: req.url }, 'route served');
    res.end('from the service');
  }, { port: 0, host: '127.0.0.1' });
  const address = server.address();
  const base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  return { app, logs, served, base };
}

describe('request-handler plugins', () => {
  it('run in priority order, lower first, before the service; onResponse runs in reverse', async () => {
    const calls: string[] = [];
    const handler = (name: string, priority: number): RequestHandler => ({
      name,
      priority,
      onRequest: () => void calls.push(`request ${name}`),
      onResponse: (ctx) => void calls.push(`response ${name} ${ctx.statusCode}`),
    });
    const { base, served } = await serve({ plugins: [handlersPlugin('h', { handlers: [handler('late', 20), handler('early', -5), handler('middle', 10)] })] });
    const reply = await request(`${base}/orders`);
    assert.equal(reply.text, 'from the service');
    assert.deepEqual(served, ['/orders']);
    assert.deepEqual(calls, ['request early', 'request middle', 'request late', 'response late 200', 'response middle 200', 'response early 200']);
  });

  it('answer with a handler\'s stop(status, body, headers), and the service and later handlers never see the request', async () => {
    const later: string[] = [];
    const { base, served } = await serve({
      plugins: [
        handlersPlugin('h', {
          handlers: [
            { name: 'gate', priority: 1, onRequest: (ctx) => (ctx.path === '/closed' ? ctx.stop(403, { error: 'closed' }, { 'x-gate': 'shut' }) : undefined) },
            { name: 'after', priority: 2, onRequest: (ctx) => void later.push(ctx.path) },
          ],
        }),
      ],
    });
    const reply = await request(`${base}/closed?x=1`);
    assert.equal(reply.status, 403);
    assert.deepEqual(reply.json(), { error: 'closed' });
    assert.equal(reply.headers['x-gate'], 'shut');
    assert.match(String(reply.headers['content-type']), /application\/json/);
    assert.deepEqual(served, []);
    assert.deepEqual(later, []);
    assert.equal((await request(`${base}/open`)).status, 200);
    assert.deepEqual(later, ['/open']);
  });

  it('answer 500 when a handler throws, log it, and keep serving', async () => {
    const { base, logs } = await serve({
      plugins: [handlersPlugin('h', { handlers: [{ name: 'broken', priority: 0, onRequest: (ctx) => { if (ctx.path === '/boom') throw new Error('handler bug'); } }] })],
    });
    const reply = await request(`${base}/boom`);
    assert.equal(reply.status, 500);
    assert.deepEqual(reply.json(), { error: 'internal error' });
    const line = logs.matching(/request handler broken failed: handler bug/)[0];
    assert.ok(line, logs.text);
    assert.equal((await request(`${base}/fine`)).status, 200, 'the next request is served');
  });

  it('answer 503 when a handler outlives its deadline, while /health/ready keeps answering', async () => {
    const { base, logs, served } = await serve({
      plugins: [handlersPlugin('h', { handlers: [{ name: 'stuck', priority: 0, timeoutMs: 1500, onRequest: () => new Promise<never>(() => undefined) }] })],
    });
    const hanging = request(`${base}/slow`);
    // While the handler hangs, the probes answer at once: they run before any handler.
    const ready = await request(`${base}/health/ready`);
    assert.equal(ready.status, 200);
    const reply = await hanging;
    assert.equal(reply.status, 503);
    assert.deepEqual(reply.json(), { error: 'request handler timed out', handler: 'stuck' });
    assert.ok(reply.ms >= 1400, `answered at the deadline, not before (${reply.ms} ms)`);
    assert.ok(ready.ms < reply.ms);
    assert.deepEqual(served, []);
    assert.ok(logs.matching(/request handler stuck did not decide within its 1500 ms deadline/)[0], logs.text);
  });
});

describe('the request-ids handler', () => {
  it('creates an id, echoes it, and puts it in every log line of the request', async () => {
    const { base, logs } = await serve({ plugins: [requestIds('request_ids')] });
    const reply = await request(`${base}/a`);
    const id = String(reply.headers['x-request-id']);
    assert.match(id, /^[0-9a-f-]{36}$/);
    const line = logs.matching(/route served/).at(-1);
    assert.equal(line?.['requestId'], id);
    assert.equal(logs.matching(/^state ready$/)[0]?.['requestId'], undefined, 'lines outside a request carry none');
  });

  it('keeps an acceptable incoming id and replaces one that could forge log lines', async () => {
    const { base, logs } = await serve({ plugins: [requestIds('request_ids')] });
    const kept = await request(`${base}/a`, { headers: { 'x-request-id': 'edge-1234' } });
    assert.equal(kept.headers['x-request-id'], 'edge-1234');
    assert.equal(logs.matching(/route served/).at(-1)?.['requestId'], 'edge-1234');
    const replaced = await request(`${base}/a`, { headers: { 'x-request-id': 'x"}, {"level":60' } });
    assert.notEqual(replaced.headers['x-request-id'], 'x"}, {"level":60');
  });
});

describe('the api-keys handler', () => {
  const env = { TEST_APP_API_KEYS_KEYS: 'old-key,new-key' };

  it('answers 401 with a JSON body without a valid key, and lets a valid one through', async () => {
    const { base, served } = await serve({ plugins: [apiKeys('api_keys')], env });
    const missing = await request(`${base}/orders`);
    assert.equal(missing.status, 401);
    assert.deepEqual(missing.json(), { error: 'unauthorized', message: 'a valid API key is required in the x-api-key header' });
    assert.equal((await request(`${base}/orders`, { headers: { 'x-api-key': 'guess' } })).status, 401);
    assert.equal((await request(`${base}/orders`, { headers: { 'x-api-key': 'new-key' } })).status, 200);
    assert.equal((await request(`${base}/orders`, { headers: { authorization: 'Bearer old-key' } })).status, 200);
    assert.deepEqual(served, ['/orders', '/orders']);
  });

  it('never checks the probes', async () => {
    const { base } = await serve({ plugins: [apiKeys('api_keys')], env });
    assert.equal((await request(`${base}/health/ready`)).status, 200);
  });

  it('stays off when declared off by default, until an operator turns it on', async () => {
    const off = await serve({ plugins: [apiKeys('api_keys', { optional: true, enabled: false })] });
    assert.equal((await request(`${off.base}/orders`)).status, 200, 'no key needed, and no KEYS setting required');
    const on = await serve({ plugins: [apiKeys('api_keys', { optional: true, enabled: false })], env: { ...env, TEST_APP_API_KEYS_ENABLED: 'true' } });
    assert.equal((await request(`${on.base}/orders`)).status, 401);
  });
});

describe('the handlers directory', () => {
  it('declares one plugin per module in {APP}_HANDLERS_DIR, its prefix from the file name', async () => {
    const modules = moduleFolder();
    try {
      modules.writeFile('handlers', 'served-by.js', `import { definePlugin, setting } from '@plinth/core';
export default definePlugin({
  type: 'served-by',
  pluginApi: '^1.0.0',
  critical: false,
  settings: { name: setting.string({ doc: 'What to put in the served-by header', default: 'plinth' }) },
  create: (ctx) => {
    ctx.app.addRequestHandler({ name: 'served-by', priority: 5, onRequest: (r) => r.setResponseHeader('served-by', ctx.settings.name) });
    return {};
  },
});
`);
      const { base } = await serve({ env: { TEST_APP_HANDLERS_DIR: `${modules.root}/handlers`, TEST_APP_SERVED_BY_NAME: 'edge-7' } });
      assert.equal((await request(`${base}/x`)).headers['served-by'], 'edge-7');
    } finally {
      modules.remove();
    }
  });
});
