import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { assertTimingsFit, defaultTimings } from '../src/timings.js';

const configMap = parse(readFileSync(new URL('../../kubernetes/configmap.yaml', import.meta.url), 'utf8')) as { data: Record<string, string> };

describe('the Kubernetes manifests and this scenario', () => {
  it('use the same shutdown delay, long enough for a load balancer that probes readiness itself', () => {
    const delay = Number(configMap.data['EXAMPLE_SERVICE_SHUTDOWN_DELAY']);
    assert.equal(delay, defaultTimings.shutdownDelayMs, 'the delay the rolling restart is proven with');
    assert.doesNotThrow(() => assertTimingsFit({ ...defaultTimings, shutdownDelayMs: delay }));
  });

  it('set the prefetch the competing consumers share the queue with', () => {
    assert.ok(Number(configMap.data['EXAMPLE_SERVICE_EVENTS_PREFETCH']) >= 1);
  });
});
