import { strict as assert } from 'node:assert';
import { performance } from 'node:perf_hooks';
import { describe, it } from 'node:test';
import { CallDeadlines } from '@plinth/core/resilience';
import { OperationTimeoutError } from '@plinth/core/lifecycle';

const deferred = <T>() => {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
};

describe('command deadlines (CallDeadlines failing every pending command once the oldest is late)', () => {
  it('passes replies through and never fires while commands answer in time', async () => {
    let late = 0;
    const deadlines = new CallDeadlines(100, { lateFailsAll: true, onLate: () => late++ });
    for (let i = 0; i < 5; i++) {
      const reply = deferred<number>();
      const tracked = deadlines.track(reply.promise);
      setTimeout(() => reply.resolve(i), 30);
      assert.equal(await tracked, i);
    }
    assert.equal(late, 0);
    assert.equal(deadlines.size, 0);
    deadlines.close();
  });

  it('when the oldest command is late, fails every pending command at its deadline and reports once', async () => {
    // The deadline timer is unref'd (a socket keeps a real process alive); stand in for it.
    const keepAlive = setInterval(() => undefined, 1000);
    const lateAt: number[] = [];
    const deadlines = new CallDeadlines(80, { lateFailsAll: true, onLate: () => lateAt.push(performance.now()) });
    const started = performance.now();
    const first = deadlines.track(new Promise<never>(() => undefined));
    await new Promise((resolve) => setTimeout(resolve, 20));
    const second = deadlines.track(new Promise<never>(() => undefined));
    const outcomes = await Promise.allSettled([first, second]);
    clearInterval(keepAlive);
    for (const outcome of outcomes) {
      assert.ok(outcome.status === 'rejected' && OperationTimeoutError.is(outcome.reason));
    }
    assert.equal(lateAt.length, 1);
    const elapsed = lateAt[0]! - started;
    assert.ok(elapsed >= 79 && elapsed < 80 + 200, `fired ${elapsed.toFixed(0)} ms after the oldest was sent`);
    assert.equal(deadlines.size, 0);
    deadlines.close();
  });

  it('a command that errors is removed and rejects with its own error', async () => {
    const deadlines = new CallDeadlines(1000, { lateFailsAll: true, onLate: () => assert.fail('not late') });
    await assert.rejects(deadlines.track(Promise.reject(new Error('WRONGTYPE'))), /WRONGTYPE/);
    assert.equal(deadlines.size, 0);
    deadlines.close();
  });
});
