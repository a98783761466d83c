import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { MemoryStore } from '../src/memory-store.js';

describe('MemoryStore (embedded driver)', () => {
  it('honours TTL: an entry is served until its expiry and is a miss from then on', () => {
    let now = 1_000;
    const store = new MemoryStore(10, () => now);
    store.set('a', '1', 100);
    store.set('forever', '2', undefined);
    now = 1_099;
    assert.equal(store.get('a'), '1');
    now = 1_100;
    assert.equal(store.get('a'), undefined, 'expired exactly at its TTL');
    now = 1_000_000;
    assert.equal(store.get('forever'), '2', 'no TTL = no expiry');
  });

  it('is size-bounded: the least recently used entry is evicted first, and a read counts as a use', () => {
    const store = new MemoryStore(3);
    store.set('a', '1', undefined);
    store.set('b', '2', undefined);
    store.set('c', '3', undefined);
    assert.equal(store.get('a'), '1'); // a is now the most recently used
    store.set('d', '4', undefined);
    assert.equal(store.size, 3);
    assert.equal(store.get('b'), undefined, 'b was the least recently used');
    assert.deepEqual(['a', 'c', 'd'].map((k) => store.get(k)), ['1', '3', '4']);
  });

  it('overwriting a key replaces its value and TTL without growing the store', () => {
    let now = 0;
    const store = new MemoryStore(2, () => now);
    store.set('a', 'old', 10);
    store.set('a', 'new', undefined);
    now = 50;
    assert.equal(store.get('a'), 'new');
    assert.equal(store.size, 1);
  });

  it('delete reports whether a live entry was removed', () => {
    let now = 0;
    const store = new MemoryStore(5, () => now);
    store.set('a', '1', undefined);
    store.set('short', '2', 10);
    assert.equal(store.delete('a'), true);
    assert.equal(store.delete('a'), false);
    now = 20;
    assert.equal(store.delete('short'), false, 'an expired entry counts as absent');
  });

  it('rejects a bound that is not a positive integer', () => {
    assert.throws(() => new MemoryStore(0), RangeError);
  });
});

