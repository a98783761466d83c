// The confirm publisher's flow control against a scripted channel. The real broker
// cannot be made to block a connection or fill a socket buffer on cue without
// disturbing every other test that shares it; everything else runs against RabbitMQ.
import { strict as assert } from 'node:assert';
import { EventEmitter } from 'node:events';
import { describe, it } from 'node:test';
import type { ChannelModel } from 'amqplib';
import type { Logger } from '@plinth/core';
import { waitFor } from '@plinth/testkit';
import { ConfirmPublisher } from '../src/amqp/confirm-publisher.js';
import type { OutgoingMessage } from '../src/driver.js';
import { ExchangeNotFoundError, PublishNackedError, PublishTimeoutError } from '../src/errors.js';
import { encodeMessage } from '../src/message.js';
import { emptyStats } from '../src/stats.js';

const noop = (): void => undefined;
const silent = { debug: noop, info: noop, warn: noop, error: noop } as unknown as Logger;

type Confirm = (error: Error | null) => void;

class ScriptedChannel extends EventEmitter {
  readonly writes: { exchange: string; id: string; confirm: Confirm }[] = [];
  /** What publish() answers: false means amqplib's buffer is full. */
  accepting = true;

  publish(exchange: string, _key: string, _content: Buffer, options: { messageId: string }, confirm: Confirm): boolean {
    this.writes.push({ exchange, id: options.messageId, confirm });
    return this.accepting;
  }

  async close(): Promise<void> {
    this.emit('close');
  }

  /** The broker closes the channel: amqplib emits error, fails unconfirmed callbacks, emits close. */
  brokerClose(error?: Error & { code: number; classId: number; methodId: number }): void {
    if (error) this.emit('error', error);
    for (const write of this.writes.splice(0)) write.confirm(new Error('channel closed'));
    this.emit('close');
  }
}

function setup() {
  const channels: ScriptedChannel[] = [];
  const model = {
    async createConfirmChannel() {
      const channel = new ScriptedChannel();
      channels.push(channel);
      return channel;
    },
  } as unknown as ChannelModel;
  const stats = emptyStats();
  const publisher = new ConfirmPublisher(silent, { initialDelayMs: 1, maxDelayMs: 5 }, stats);
  return { channels, model, stats, publisher };
}

function message(exchange: string, timeoutMs = 5000): OutgoingMessage {
  const { content, properties } = encodeMessage({ x: 1 }, {});
  return { exchange, routingKey: 'k', content, properties, mandatory: false, timeoutMs };
}

describe('confirm publisher flow control', () => {
  it('stops writing while amqplib reports a full buffer and resumes on drain', async () => {
    const { channels, model, publisher } = setup();
    await publisher.attach(model);
    const channel = channels[0]!;
    channel.accepting = false;
    const results = Array.from({ length: 5 }, () => publisher.publish(message('ex')));
    assert.equal(channel.writes.length, 1, 'one write filled the buffer; the rest wait');
    channel.emit('drain');
    assert.equal(channel.writes.length, 2, 'drain lets one more through, which fills it again');
    channel.accepting = true;
    channel.emit('drain');
    assert.equal(channel.writes.length, 5);
    for (const write of channel.writes) write.confirm(null);
    await Promise.all(results);
    assert.equal(publisher.outstanding, 0);
  });

  it('holds publishes while the broker blocks the connection; they time out as "blocked" or go out when unblocked', async () => {
    const { channels, model, publisher } = setup();
    await publisher.attach(model);
    const channel = channels[0]!;
    publisher.setBlocked(true);
    const short = publisher.publish(message('ex', 30));
    const long = publisher.publish(message('ex'));
    assert.equal(channel.writes.length, 0);
    await assert.rejects(short, (error: unknown) => error instanceof PublishTimeoutError && /broker blocked/.test(error.message));
    publisher.setBlocked(false);
    assert.equal(channel.writes.length, 1, 'only the publish still waiting is written');
    channel.writes[0]!.confirm(null);
    await long;
  });

  it('sends again, on a new channel, what lost its channel before the confirm', async () => {
    const { channels, model, publisher, stats } = setup();
    await publisher.attach(model);
    const pending = [publisher.publish(message('ex')), publisher.publish(message('ex'))];
    const first = channels[0]!;
    const ids = first.writes.map((w) => w.id);
    first.brokerClose();
    await waitFor(() => channels.length === 2 && channels[1]!.writes.length === 2);
    const second = channels[1]!;
    assert.deepEqual(second.writes.map((w) => w.id), ids, 'same messages, same order, same ids');
    for (const write of second.writes) write.confirm(null);
    await Promise.all(pending);
    assert.equal(stats.resent, 2);
  });

  it('rejects a publish the broker nacks, and resolves the others', async () => {
    const { channels, model, publisher } = setup();
    await publisher.attach(model);
    const results = [publisher.publish(message('ex')), publisher.publish(message('ex'))];
    const [first, second] = channels[0]!.writes;
    first!.confirm(new Error('message nacked'));
    second!.confirm(null);
    await assert.rejects(results[0]!, (e: unknown) => e instanceof PublishNackedError && e.reason === 'nacked');
    await results[1];
  });

  it('on a 404 for a missing exchange rejects the publishes to it and sends the others again', async () => {
    const { channels, model, publisher } = setup();
    await publisher.attach(model);
    const good = publisher.publish(message('orders'));
    const bad = publisher.publish(message('gone'));
    const error = Object.assign(new Error("Channel closed by server: 404 (NOT-FOUND) with message \"NOT_FOUND - no exchange 'gone' in vhost '/'\""), {
      code: 404,
      classId: 60,
      methodId: 40,
    });
    channels[0]!.brokerClose(error);
    await assert.rejects(bad, (e: unknown) => e instanceof ExchangeNotFoundError && e.exchange === 'gone');
    await waitFor(() => channels[1]?.writes.length === 1);
    assert.equal(channels[1]!.writes[0]!.exchange, 'orders');
    channels[1]!.writes[0]!.confirm(null);
    await good;
  });
});
