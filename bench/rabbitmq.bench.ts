// Confirmed-publish throughput: the rabbitmq plugin's publish() vs hand-written amqplib on
// a confirm channel (publish with a callback each, then waitForConfirms). Same broker,
// same queue, same message (a ~256-byte JSON body, persistent, mandatory, message id,
// content type, timestamp), same run; sides alternate. Each run is checked: the queue
// must hold exactly N messages afterwards, or the benchmark fails.
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { Writable } from 'node:stream';
import amqp from 'amqplib';
import { createApp } from '@plinth/core';
import { rabbitmq, type RabbitMqPlugin } from '@plinth/plugin-rabbitmq';
import { failLoudly, median, printTable, type Row } from './lib.js';

const URL = process.env['TEST_AMQP_URL'] || process.env['AMQP_URL'] || 'amqp://guest:guest@127.0.0.1:5672';
const N = 5_000;
const RUNS = 7;
const QUEUE = `plinth-bench.${Date.now().toString(36)}.${randomUUID().slice(0, 8)}`;
const body = { orderId: 0, customer: 'c-000123', items: Array.from({ length: 4 }, (_, i) => ({ sku: `sku-${i}-abcdef`, qty: i + 1, price: 1999 })), note: 'x'.repeat(40) };
const silent = new Writable({ write: (_chunk, _encoding, done) => done() });

interface Case {
  readonly label: string;
  readonly queue: string;
  /** Persistent messages on a durable queue: the broker writes them to disk before it confirms. */
  readonly persistent: boolean;
}

async function main(): Promise<void> {
  const cases: Case[] = [
    { label: 'persistent, durable queue', queue: `${QUEUE}.durable`, persistent: true },
    { label: 'transient, non-durable queue', queue: `${QUEUE}.transient`, persistent: false },
  ];
  const admin = await amqp.connect(URL);
  admin.on('error', failLoudly);
  const adminChannel = await admin.createChannel();
  adminChannel.on('error', failLoudly);

  // Raw amqplib: one connection and confirm channel, reused across runs like the plugin's.
  const raw = await amqp.connect(URL, { noDelay: true });
  raw.on('error', failLoudly);
  const rawChannel = await raw.createConfirmChannel();
  rawChannel.on('error', failLoudly);
  rawChannel.on('return', () => failLoudly(new Error('raw side: a message came back unroutable')));

  const app = createApp({
    name: 'bench',
    plugins: [
      rabbitmq('mq', {
        topology: { queues: cases.map((c) => ({ name: c.queue, durable: c.persistent, deadLetter: false })) },
      }),
    ],
    env: { BENCH_MQ_URL: URL, BENCH_LOG_LEVEL: 'warn', BENCH_MQ_PUBLISH_TIMEOUT: '60s' },
    logDestination: silent,
  });
  await app.start();
  const mq = app.plugin('mq') as RabbitMqPlugin;

  const RAW = 'amqplib confirm channel (hand-written)';
  const PLUGIN = 'plinth rabbitmq publish()';
  const sides: Record<string, (c: Case) => Promise<void>> = {
    [RAW]: async (c) => {
      const confirms: Promise<void>[] = [];
      for (let i = 0; i < N; i++) {
        const content = Buffer.from(JSON.stringify({ ...body, orderId: i }));
        const options = {
          persistent: c.persistent,
          mandatory: true,
          messageId: randomUUID(),
          contentType: 'application/json',
          timestamp: Math.floor(Date.now() / 1000),
          headers: {},
        };
        confirms.push(
          new Promise<void>((resolve, reject) => {
            rawChannel.sendToQueue(c.queue, content, options, (error: unknown) => (error ? reject(error as Error) : resolve()));
          }),
        );
      }
      await Promise.all(confirms);
      await rawChannel.waitForConfirms();
    },
    [PLUGIN]: async (c) => {
      const confirms: Promise<unknown>[] = [];
      for (let i = 0; i < N; i++) confirms.push(mq.sendToQueue(c.queue, { ...body, orderId: i }, { persistent: c.persistent }));
      await Promise.all(confirms);
    },
  };

  const rows: Row[] = [];
  const ratios: string[] = [];
  for (const c of cases) {
    const samples = new Map<string, number[]>([
      [RAW, []],
      [PLUGIN, []],
    ]);
    const pairRatios: number[] = [];
    const runOnce = async (name: string, record: boolean): Promise<number> => {
      await adminChannel.purgeQueue(c.queue);
      const started = performance.now();
      await sides[name]?.(c);
      const seconds = (performance.now() - started) / 1000;
      const { messageCount } = await adminChannel.checkQueue(c.queue);
      if (messageCount !== N) throw new Error(`${name} (${c.label}): expected ${N} messages in the queue after the run, found ${messageCount}`);
      if (record) samples.get(name)?.push(N / seconds);
      return N / seconds;
    };
    for (const name of [RAW, PLUGIN]) await runOnce(name, false); // warm-up
    for (let run = 0; run < RUNS; run++) {
      // Alternate which side goes first, so drift on the broker hits both alike.
      const rate = new Map<string, number>();
      for (const name of run % 2 === 0 ? [RAW, PLUGIN] : [PLUGIN, RAW]) rate.set(name, await runOnce(name, true));
      pairRatios.push((rate.get(PLUGIN) ?? 0) / (rate.get(RAW) ?? 1));
    }
    const rawSamples = samples.get(RAW) ?? [];
    const pluginSamples = samples.get(PLUGIN) ?? [];
    const label = `${N} × ~${Buffer.byteLength(JSON.stringify(body))} B JSON, ${c.label}`;
    rows.push({ case: label, subject: RAW, samples: rawSamples, unit: 'msg/s' });
    rows.push({ case: label, subject: PLUGIN, samples: pluginSamples, unit: 'msg/s', baseline: median(rawSamples) });
    ratios.push(
      `${c.label}: ${(median(pluginSamples) / median(rawSamples)).toFixed(3)} (medians), ${median(pairRatios).toFixed(3)} (median of back-to-back pairs)`,
    );
  }

  await app.stop();
  await rawChannel.close();
  await raw.close();
  for (const c of cases) await adminChannel.deleteQueue(c.queue);
  await admin.close();

  printTable(`Confirmed-publish throughput (median of ${RUNS} runs; ratio = plugin / raw, higher is better)`, rows);
  console.log(`\nratio plugin/raw (confirmed msg/s): ${ratios.join('; ')}`);
}

main().catch(failLoudly);
