import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { ExponentialBackoff } from 'cockatiel';
import { Backoff, backoffDelay, sleep } from '../src/lifecycle/index.js';

describe('Backoff', () => {
  it('grows towards the cap with jitter, and starts over after reset', () => {
    const backoff = new Backoff({ initialDelayMs: 100, maxDelayMs: 2_000 });
    const delays = Array.from({ length: 30 }, () => backoff.next());
    assert.ok(delays.every((d) => d >= 0 && d <= 2_000), 'never above the cap');
    assert.ok(Math.max(...delays.slice(10)) > Math.max(...delays.slice(0, 2)), 'later delays are longer than the first ones');
    assert.ok(new Set(delays.slice(10)).size > 1, 'jittered: not one fixed value');
    backoff.reset();
    assert.ok(backoff.next() <= 400, 'after reset it starts near the initial delay again');
  });

  it('stays jittered at the cap (cockatiel\'s default generator clamps to exactly maxDelay)', () => {
    // The regression this pins: with the default decorrelated jitter, a long outage's
    // retries all land on exactly maxDelay, so every replica reconnects in lockstep.
    let step = new ExponentialBackoff({ initialDelay: 100, maxDelay: 1_000 }).next();
    const defaults = Array.from({ length: 30 }, () => (step = step.next(undefined)).duration).slice(-10);
    assert.deepEqual(new Set(defaults), new Set([1_000]), 'the library default is flat at the cap');

    const backoff = new Backoff({ initialDelayMs: 100, maxDelayMs: 1_000 });
    const ours = Array.from({ length: 30 }, () => backoff.next()).slice(-10);
    assert.ok(new Set(ours).size > 1, 'ours still varies at the cap');
    assert.ok(ours.every((d) => d >= 500 && d <= 1_000), 'within the upper half of the capped step');
  });

  it('backoffDelay doubles per attempt up to the cap, within the upper half of each step', () => {
    const options = { initialDelayMs: 50, maxDelayMs: 500 };
    const steps = [50, 100, 200, 400, 500, 500];
    for (const [i, step] of steps.entries()) {
      const samples = Array.from({ length: 50 }, () => backoffDelay(options, i + 1));
      assert.ok(samples.every((d) => d >= step / 2 && d <= step), `attempt ${i + 1} within [${step / 2}, ${step}]`);
    }
    assert.ok(new Set(Array.from({ length: 50 }, () => backoffDelay(options, 10))).size > 1, 'jittered at the cap');
  });

  it('sleep rejects with the abort reason as soon as the signal aborts', async () => {
    const controller = new AbortController();
    const pending = sleep(10_000, controller.signal);
    controller.abort(new Error('shutting down'));
    await assert.rejects(pending, /shutting down/);
  });
});
