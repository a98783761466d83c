import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { redactStrings, scrubEvent } from '../src/scrub.js';

const redact = (text: string) => text.replaceAll('hunter2', '<redacted>');

describe('scrubEvent', () => {
  it('redacts every string, however deep, and survives cycles', () => {
    const cyclic: Record<string, unknown> = { note: 'hunter2' };
    cyclic.self = cyclic;
    const event = redactStrings({ message: 'pw hunter2', extra: { a: [{ b: ['x hunter2'] }], cyclic } }, redact);
    assert.equal(event.message, 'pw <redacted>');
    assert.deepEqual(event.extra.a, [{ b: ['x <redacted>'] }]);
    assert.equal(cyclic.note, '<redacted>');
  });

  it('drops cookies, request bodies and credential headers', () => {
    const event = scrubEvent(
      { request: { method: 'POST', url: '/x', cookies: { sid: 'a' }, data: '{"card":1}', headers: { Authorization: 'Bearer t', Cookie: 'sid=a', 'user-agent': 'curl' } } },
      redact,
    );
    assert.deepEqual(event.request, { method: 'POST', url: '/x', headers: { 'user-agent': 'curl' } });
  });
});
