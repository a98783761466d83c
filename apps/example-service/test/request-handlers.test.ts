import { strict as assert } from 'node:assert';
import { after, describe, it } from 'node:test';
import { startService, type RunningService } from './support/service-process.js';

describe('the example service\'s request handlers', () => {
  const running: RunningService[] = [];
  after(async () => {
    await Promise.all(running.map((s) => s.process.kill()));
  });

  it('gives every response a request id and checks no API key by default', async () => {
    const service = await startService({});
    running.push(service);
    const response = await fetch(`${service.url}/stats`, { headers: { 'x-request-id': 'trace-42' } });
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('x-request-id'), 'trace-42');
    const health = await (await fetch(`${service.url}/health`)).json() as { checks: Record<string, { status: string }> };
    assert.equal(health.checks['api_keys']?.status, 'disabled');
  });

  it('asks for an API key once an operator turns the check on, never on the probes', async () => {
    const service = await startService({ EXAMPLE_SERVICE_API_KEYS_ENABLED: 'true', EXAMPLE_SERVICE_API_KEYS_KEYS: 'k-1,k-2' });
    running.push(service);
    const refused = await fetch(`${service.url}/stats`);
    assert.equal(refused.status, 401);
    assert.equal(((await refused.json()) as { error: string }).error, 'unauthorized');
    assert.equal((await fetch(`${service.url}/stats`, { headers: { 'x-api-key': 'k-2' } })).status, 200);
    assert.equal((await fetch(`${service.url}/health/ready`)).status, 200);
  });
});
