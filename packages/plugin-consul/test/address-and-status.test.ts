import assert from 'node:assert/strict';
import { networkInterfaces } from 'node:os';
import { describe, it } from 'node:test';
import type { AppState } from '@plinth/core';
import { checkStatusOf } from '../src/consul-plugin.js';
import { advertisedAddress } from '../src/instance-settings.js';

describe('the address registered for this instance', () => {
  const listening = { host: '127.0.0.1', port: 8080 };

  it('is ADDRESS when set, even with POD_IP in the environment', () => {
    assert.equal(advertisedAddress('10.1.2.3', listening, { POD_IP: '10.9.9.9' }), '10.1.2.3');
  });

  it('is POD_IP (the Downward API) when ADDRESS is not set', () => {
    assert.equal(advertisedAddress(undefined, listening, { POD_IP: ' 10.9.9.9 ' }), '10.9.9.9');
    assert.equal(advertisedAddress(undefined, listening, { POD_IP: '' }), '127.0.0.1', 'an empty POD_IP is not an address');
  });

  it('is the host the HTTP server listens on, unless that is a wildcard', () => {
    assert.equal(advertisedAddress(undefined, { host: '192.168.7.4', port: 80 }, {}), '192.168.7.4');
    const external = Object.values(networkInterfaces())
      .flatMap((addresses) => addresses ?? [])
      .find((a) => a.family === 'IPv4' && !a.internal)?.address;
    for (const wildcard of ['0.0.0.0', '::']) {
      const address = advertisedAddress(undefined, { host: wildcard, port: 80 }, {});
      assert.equal(address, external ?? '127.0.0.1', `${wildcard} is never registered: other hosts cannot dial it`);
    }
  });
});

describe('the TTL check status reported for the app state', () => {
  it('maps ready to passing, degraded to warning and every other state to critical', () => {
    const states: AppState[] = ['created', 'starting', 'ready', 'degraded', 'draining', 'stopped', 'failed'];
    assert.deepEqual(Object.fromEntries(states.map((state) => [state, checkStatusOf(state)])), {
      created: 'critical',
      starting: 'critical',
      ready: 'passing',
      degraded: 'warning',
      draining: 'critical',
      stopped: 'critical',
      failed: 'critical',
    });
  });
});
