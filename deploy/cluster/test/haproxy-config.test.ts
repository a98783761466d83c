import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { findHaproxy } from '../src/haproxy.js';
import { haproxyConfig } from '../src/haproxy-config.js';
import { assertTimingsFit, defaultTimings, removalBoundMs } from '../src/timings.js';

const config = haproxyConfig({
  port: 8080,
  servers: [
    { name: 'r1', port: 3001 },
    { name: 'r2', port: 3002 },
  ],
  statsSocket: '/tmp/haproxy-test.sock',
  timings: defaultTimings,
});
const lines = config.split('\n').map((line) => line.trim());

/** The directives that decide whether a request is dropped while a replica restarts. */
const DROP_RELEVANT = ['option httpchk', 'default-server', 'retry-on', 'retries', 'option redispatch', 'http-reuse', 'timeout connect', 'timeout server', 'balance'];

describe('the HAProxy configuration', () => {
  it('explains every setting that decides whether a request is dropped', () => {
    for (const directive of DROP_RELEVANT) {
      const at = lines.findIndex((line) => line.startsWith(directive));
      assert.ok(at > 0, `${directive} is set`);
      // The comment may sit above a short block of related directives.
      const above = lines.slice(Math.max(0, at - 4), at);
      assert.ok(above.some((line) => line.startsWith('#')), `${directive} has a comment saying why`);
    }
  });

  it('routes by /health/ready with the timings the shutdown delay is made for', () => {
    assert.ok(lines.includes('http-check send meth GET uri /health/ready'));
    assert.ok(lines.includes('http-check expect status 200'));
    assert.ok(lines.includes(`timeout check ${defaultTimings.checkTimeoutMs}ms`));
    assert.match(config, new RegExp(`inter ${defaultTimings.checkIntervalMs}ms .* fall ${defaultTimings.fall} rise ${defaultTimings.rise}`));
    assert.ok(lines.includes('retry-on conn-failure empty-response'), 'requests a closing replica never read are sent elsewhere');
    assert.ok(lines.includes('option redispatch 1'));
    assert.ok(!lines.some((line) => !line.startsWith('#') && line.includes('on-marked-down')), 'a replica out of rotation keeps its requests in flight');
    assert.ok(lines.includes('server r1 127.0.0.1:3001') && lines.includes('server r2 127.0.0.1:3002'));
  });

  it('fails open only when asked: every replica as an unchecked backup', () => {
    assert.ok(!config.includes(' backup'), 'by default readiness alone decides');
    const failOpen = haproxyConfig({ port: 8080, servers: [{ name: 'r1', port: 3001 }], statsSocket: '/tmp/x.sock', timings: defaultTimings, failOpen: true });
    assert.match(failOpen, /^ {4}option allbackups$/m);
    assert.match(failOpen, /^ {4}server r1-open 127\.0\.0\.1:3001 backup no-check$/m);
  });

  it('is accepted by haproxy -c, failing open or not', async () => {
    const binary = findHaproxy();
    assert.ok(binary, 'haproxy is installed (apt-get install -y haproxy)');
    const dir = await mkdtemp(join(tmpdir(), 'haproxy-config-'));
    try {
      const statsSocket = join(dir, 'haproxy.sock');
      for (const failOpen of [false, true]) {
        const path = join(dir, `haproxy-${failOpen}.cfg`);
        await writeFile(path, haproxyConfig({ port: 8080, servers: [{ name: 'r1', port: 3001 }], statsSocket, timings: defaultTimings, failOpen }));
        await promisify(execFile)(binary, ['-c', '-q', '-f', path]);
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('cluster timings', () => {
  it('leave the shutdown delay at least twice the time HAProxy needs to stop routing', () => {
    assert.equal(removalBoundMs(defaultTimings), defaultTimings.fall * (defaultTimings.checkIntervalMs + defaultTimings.checkTimeoutMs));
    assert.doesNotThrow(() => assertTimingsFit(defaultTimings));
    assert.throws(() => assertTimingsFit({ ...defaultTimings, shutdownDelayMs: removalBoundMs(defaultTimings) }), /requests would reach a closed listener/);
  });
});
