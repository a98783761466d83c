import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import amqp from 'amqplib';
import { requireService, waitFor } from '@plinth/testkit';
import { startCluster, type Cluster } from '../src/cluster.js';
import { findHaproxy } from '../src/haproxy.js';
import { rollingRestart, type ScenarioReport } from '../src/scenarios.js';

function requireHaproxy(): string {
  const binary = findHaproxy();
  if (!binary) {
    throw new Error(
      'haproxy is not installed. The cluster tests run the replicas behind a real HAProxy and do not skip.\n' +
        '  Install it with: apt-get update && apt-get install -y haproxy   (.ci/run does this)',
    );
  }
  return binary;
}

describe('three replicas behind HAProxy', () => {
  let cluster: Cluster;

  before(async () => {
    const haproxyBinary = requireHaproxy();
    await Promise.all([requireService('postgres'), requireService('redis'), requireService('rabbitmq')]);
    cluster = await startCluster({ replicas: 3, haproxyBinary });
  });
  after(() => cluster?.stop());

  it('replaces every replica under keep-alive load without a failed request or a lost event', async () => {
    const report: ScenarioReport = await rollingRestart(cluster, { ratePerSecond: 60, connections: 8, writeShare: 0.3, warmupMs: 3000, settleMs: 2000 });
    const { load, events, replacements } = report;
    const why = [...load.failureSamples, ...report.haproxyLog].join('\n');

    assert.equal(load.all.failed, 0, `failed requests: ${JSON.stringify(load.all.failures)}\n${why}`);
    assert.ok(load.byKind.read.sent > 200 && load.byKind.write.sent > 100, `load really ran: ${load.byKind.read.sent} reads, ${load.byKind.write.sent} writes`);
    assert.ok((load.byKind.write.latency['during']?.count ?? 0) > 50, 'users were created while replicas were replaced');

    assert.equal(replacements.length, 3);
    for (const replacement of replacements) {
      assert.equal(replacement.exitCode, 0, `${replacement.server} drained and exited 0`);
      assert.ok(
        replacement.outOfRotationMs < cluster.timings.shutdownDelayMs,
        `${replacement.server} left HAProxy's rotation (${replacement.outOfRotationMs} ms) before it stopped listening (${cluster.timings.shutdownDelayMs} ms)`,
      );
    }

    assert.ok(report.consumedInTime, 'every event was consumed');
    assert.equal(events.usersInDatabase, events.created, 'users in the database == 201s the client saw');
    assert.equal(events.eventsConsumed, events.created, 'events consumed == 201s the client saw');
    assert.equal(events.createdButMissing, 0);
    assert.equal(events.createdWithoutEvent, 0, "every 201'd user has its event consumed");
    assert.equal(events.duplicatesSeen, 0, 'every event handled once');
  });

  it('counts a redelivered event as a duplicate the consumer saw, and consumes it once', async () => {
    const created = await fetch(`${cluster.url}/users`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Once', email: `once-${Date.now()}@example.com` }),
    });
    assert.equal(created.status, 201);
    const { id } = (await created.json()) as { id: number };
    await waitFor(async () => (await cluster.ledger.tally([id])).createdWithoutEvent === 0, { timeoutMs: 15_000, message: 'the event is consumed' });
    const first = await cluster.ledger.tally([id]);

    // The same message id again, as a redelivery after a lost ack would bring it.
    const messageId = await cluster.ledger.consumedMessageId(id);
    assert.ok(messageId, 'the consumed event has the id the outbox gave it');
    const connection = await amqp.connect(cluster.amqpUrl);
    try {
      const channel = await connection.createConfirmChannel();
      const body = Buffer.from(JSON.stringify({ userId: id, email: 'once@example.com' }));
      channel.publish('example.users', 'user.created', body, { messageId, contentType: 'application/json', persistent: true });
      await channel.waitForConfirms();
    } finally {
      await connection.close();
    }

    const after = await waitFor(
      async () => {
        const now = await cluster.ledger.tally([id]);
        return now.duplicatesSeen === first.duplicatesSeen + 1 ? now : undefined;
      },
      { timeoutMs: 15_000, message: 'the consumer handles the redelivery' },
    );
    assert.equal(after.eventsConsumed, first.eventsConsumed, 'still consumed once');
    assert.equal(after.eventsPublished, first.eventsPublished, 'one event, delivered twice');
  });
});
