import { strict as assert } from 'node:assert';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { requireService, scratchAmqpNames, spawnProcess, type OutputLine } from '@plinth/testkit';
import type amqp from 'amqplib';
import { drainQueue, messageCount, rawConnection, withChannel } from './support/harness.js';

const fixture = fileURLToPath(new URL('./fixtures/consumer-app.ts', import.meta.url));
const packageDir = fileURLToPath(new URL('..', import.meta.url));
const N = 20;
const PREFETCH = 3;

let url: string;
let raw: amqp.ChannelModel;

before(async () => {
  url = await requireService('rabbitmq');
  raw = await rawConnection();
});
after(async () => {
  await raw.close();
});

const field = (line: OutputLine, key: string): unknown => (typeof line === 'object' ? line[key] : undefined);
const startedCount = (lines: readonly OutputLine[]): number => lines.filter((l) => field(l, 'event') === 'handler-started').length;

/** Declares the queue as the fixture will, and puts N messages in it with confirms. */
async function fillQueue(queue: string, dlx: string): Promise<void> {
  await withChannel(raw, async (ch) => {
    await ch.assertQueue(queue, { durable: true, arguments: { 'x-dead-letter-exchange': dlx, 'x-dead-letter-routing-key': queue } });
  });
  const confirm = await raw.createConfirmChannel();
  confirm.on('error', () => undefined);
  for (let seq = 0; seq < N; seq++) {
    confirm.sendToQueue(queue, Buffer.from(JSON.stringify({ seq })), { contentType: 'application/json', messageId: `m-${seq}`, persistent: true });
  }
  await confirm.waitForConfirms();
  await confirm.close();
}

function spawnFixture(queue: string, dlx: string, mode: 'finish' | 'stuck', stopTimeout: string, options: { embedded?: boolean } = {}) {
  return spawnProcess({
    args: ['--import', 'tsx', fixture],
    cwd: packageDir,
    env: {
      FIXTURE_QUEUE: queue,
      FIXTURE_DLX: dlx,
      FIXTURE_MODE: mode,
      CONSUMER_APP_EVENTS_URL: options.embedded ? undefined : url,
      CONSUMER_APP_EVENTS_PREFETCH: String(PREFETCH),
      CONSUMER_APP_EVENTS_STOP_TIMEOUT: stopTimeout,
      CONSUMER_APP_HEALTH_PORT: '0',
      CONSUMER_APP_LOG_LEVEL: 'info',
    },
  });
}

describe('SIGTERM while handlers are running', () => {
  it('lets in-flight handlers finish and ack; unconsumed messages stay in the queue for the next instance', async () => {
    const names = scratchAmqpNames();
    const queue = names.name('q');
    names.name('q.dlq');
    names.name('q.retry');
    const dlx = names.name('dlx');
    const child = spawnFixture(queue, dlx, 'finish', '5000');
    try {
      await fillQueue(queue, dlx);
      // The broker hands out exactly `prefetch` messages while no handler acks.
      await child.waitForLine(() => startedCount(child.lines) === PREFETCH, 15_000);
      assert.ok(child.signal('SIGTERM'));
      const exit = await child.exited;
      assert.equal(exit.code, 0, child.tail());

      const lines = child.lines;
      const started = lines.filter((l) => field(l, 'event') === 'handler-started').map((l) => field(l, 'seq') as number);
      const finished = lines.filter((l) => field(l, 'event') === 'handler-finished').map((l) => field(l, 'seq') as number);
      const shutdownAt = lines.findIndex((l) => field(l, 'msg') === 'shutting down');
      assert.ok(shutdownAt >= 0, 'the app logged the start of shutdown');
      assert.equal(started.length, PREFETCH, 'no message was delivered after shutdown began');
      assert.deepEqual([...finished].sort(), [...started].sort(), 'every in-flight handler finished');
      assert.ok(
        lines.findIndex((l) => field(l, 'event') === 'handler-finished') > shutdownAt,
        'handlers were still running when shutdown began, and it waited for them',
      );

      // The connection is closed: anything unacked would be back in the queue.
      assert.equal(await messageCount(raw, queue), N - PREFETCH, 'handled messages were acked; the rest stayed');
      const remaining = await drainQueue(raw, queue);
      const remainingSeqs = remaining.map((m) => (JSON.parse(m.content.toString()) as { seq: number }).seq);
      const all = new Set([...remainingSeqs, ...started]);
      assert.equal(all.size, N, 'handled and remaining messages together are all of them, none twice');
      assert.ok(started.every((seq) => !remainingSeqs.includes(seq)));
    } finally {
      await child.kill();
      await names.cleanup();
    }
  });

  it('at the stop deadline aborts stuck handlers; their messages go back to the queue', async () => {
    const names = scratchAmqpNames();
    const queue = names.name('q');
    names.name('q.dlq');
    names.name('q.retry');
    const dlx = names.name('dlx');
    const child = spawnFixture(queue, dlx, 'stuck', '700');
    try {
      await fillQueue(queue, dlx);
      await child.waitForLine(() => startedCount(child.lines) === PREFETCH, 15_000);
      const signalledAt = Date.now();
      assert.ok(child.signal('SIGTERM'));
      const exit = await child.exited;
      const elapsed = Date.now() - signalledAt;
      assert.equal(exit.code, 1, 'an onStop that hit its deadline is an unclean stop');
      assert.ok(elapsed < 700 + 2000, `exited ${elapsed} ms after SIGTERM, bounded by the stop deadline`);
      assert.ok(child.lines.some((l) => /stop deadline reached: aborting handlers/.test(String(field(l, 'msg')))), child.tail());
      assert.equal(child.lines.filter((l) => field(l, 'event') === 'handler-finished').length, 0);
      assert.equal(await messageCount(raw, queue), N, 'nothing lost: aborted messages returned to the queue');
      const redelivered = (await drainQueue(raw, queue)).filter((m) => m.fields.redelivered).length;
      assert.equal(redelivered, PREFETCH, 'exactly the in-flight ones come back flagged as redelivered');
    } finally {
      await child.kill();
      await names.cleanup();
    }
  });

  it('with the in-process broker, the app stays up until SIGTERM like with a connection, then stops cleanly', async () => {
    const child = spawnFixture('jobs', 'dead-letter', 'finish', '5000', { embedded: true });
    try {
      await child.waitForLine((line) => field(line, 'event') === 'consuming', 15_000);
      await new Promise((resolve) => setTimeout(resolve, 500));
      assert.equal(child.exitInfo, undefined, `exited on its own: ${child.tail()}`);
      assert.ok(child.signal('SIGTERM'));
      assert.equal((await child.exited).code, 0, child.tail());
      assert.ok(child.lines.some((l) => /in-process broker/.test(String(field(l, 'msg')))), child.tail());
    } finally {
      await child.kill();
    }
  });
});
