import { strict as assert } from 'node:assert';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { PluginUnavailableError } from '../src/index.js';
import { unavailableResponder } from '../src/http/index.js';
import { controllable, type ControllablePlugin } from './fixtures/controllable-plugin.js';
import { testApp } from './support/scripted-plugin.js';

/** A node:http server whose handler throws `failure()`; errors go through the responder, else 500. */
async function serverFailingWith(app: Parameters<typeof unavailableResponder>[0], failure: () => unknown) {
  const responder = unavailableResponder(app, { retryAfterSeconds: 3 });
  const server = http.createServer((_req, res) => {
    const error = failure();
    if (!responder.respond(error, res)) {
      res.statusCode = 500;
      res.end('internal error');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  return { responder, server, url };
}

describe('unavailableResponder', () => {
  it('answers 503 with Retry-After for a PluginUnavailableError and for a driver error while a critical plugin is down', async () => {
    const { app, logs } = testApp({ plugins: [controllable('db')], env: {} });
    await app.start();
    const db = app.plugin('db') as ControllablePlugin;
    let failure: unknown = new PluginUnavailableError('controllable', 'db', 'connection refused');
    const { responder, server, url } = await serverFailingWith(app, () => failure);
    try {
      const first = await fetch(url);
      assert.equal(first.status, 503);
      assert.equal(first.headers.get('retry-after'), '3');
      assert.deepEqual(await first.json(), { error: 'service temporarily unavailable, retry later' });

      db.ctx.availability.markUnavailable('connection lost');
      failure = new Error('write CONNECTION_CLOSED db.internal:5432');
      for (let i = 0; i < 4; i++) assert.equal((await fetch(url)).status, 503);
      assert.equal(responder.answeredDuringOutage, 5);
      assert.equal(logs.lines.filter((line) => /answering 503/.test(String(line['msg']))).length, 1, 'logged once per outage');

      db.ctx.availability.markAvailable();
      failure = new Error('a bug');
      assert.equal((await fetch(url)).status, 500, 'an ordinary error stays a 500 once everything is available');
    } finally {
      server.close();
      await app.stop();
    }
  });

  it('ends an outage when the plugins it refused requests for are back, though another plugin is still down', async () => {
    const { app, logs } = testApp({ plugins: [controllable('db'), controllable('events', { critical: false })], env: {} });
    await app.start();
    const db = app.plugin('db') as ControllablePlugin;
    const events = app.plugin('events') as ControllablePlugin;
    const { server, url } = await serverFailingWith(app, () => new PluginUnavailableError('controllable', 'db', 'connection refused'));
    try {
      db.ctx.availability.markUnavailable('connection lost');
      events.ctx.availability.markUnavailable('publishes failing');
      assert.equal((await fetch(url)).status, 503);
      db.ctx.availability.markAvailable();
      const back = () => logs.lines.filter((line) => /are back: 1 request\(s\) were answered 503/.test(String(line['msg'])));
      const deadline = Date.now() + 3000;
      while (back().length === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
      assert.equal(back().length, 1, 'the outage of db is over while events, which refused no request, is still down');
    } finally {
      server.close();
      await app.stop();
    }
  });

  it('leaves client errors and ordinary failures alone', async () => {
    const { app } = testApp({ plugins: [controllable('db')], env: {} });
    await app.start();
    const responder = unavailableResponder(app);
    try {
      assert.equal(responder.answer(Object.assign(new Error('bad input'), { statusCode: 400 })), undefined);
      assert.equal(responder.answer(new TypeError('x is undefined')), undefined);
      assert.equal(responder.answer(new Error('query failed', { cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }) }))?.status, 503);
    } finally {
      await app.stop();
    }
  });

  it('gives express an error middleware that answers 503 for an unavailable plugin and hands other errors to next()', async () => {
    const { app } = testApp({ plugins: [controllable('db')], env: {} });
    await app.start();
    const middleware = unavailableResponder(app, { retryAfterSeconds: 2 }).expressErrorHandler();
    const passed: unknown[] = [];
    let failure: unknown = new Error('query failed', { cause: new PluginUnavailableError('controllable', 'db') });
    // What express does with a route's error: the error middleware, then its own 500 on next(error).
    const server = http.createServer((req, res) =>
      middleware(failure, req, res, (error) => {
        passed.push(error);
        res.statusCode = 500;
        res.end();
      }),
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    try {
      const unavailable = await fetch(url);
      assert.equal(unavailable.status, 503);
      assert.equal(unavailable.headers.get('retry-after'), '2');
      assert.equal(passed.length, 0);

      failure = new Error('a bug');
      assert.equal((await fetch(url)).status, 500);
      assert.deepEqual(passed, [failure]);
    } finally {
      server.close();
      await app.stop();
    }
  });
});
