import { strict as assert } from 'node:assert';
import { createServer, type Server } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { conformanceRules, pluginConformance, type ConformanceOptions } from '../src/index.js';
import { broken, line } from './broken/line-plugin.js';

let greeter: Server;
let port = 0;
before(async () => {
  greeter = createServer((socket) => {
    socket.on('error', () => socket.destroy());
    socket.write('hello\n');
  });
  await new Promise<void>((resolve) => greeter.listen(0, '127.0.0.1', resolve));
  port = (greeter.address() as { port: number }).port;
});
after(() => new Promise<void>((resolve) => greeter.close(() => resolve())));

/** The greeter's port is known only once it listens, so its settings are read late. */
const lineOptions: ConformanceOptions = {
  get settings() {
    return { url: `tcp://user:pw@127.0.0.1:${port}` };
  },
  unreachable: ({ host, port: silent }) => ({ url: `tcp://user:line-password@${host}:${silent}` }),
  deadlineMs: 300,
};
const options = (): ConformanceOptions => lineOptions;

/** What each rule says about its broken plugin: proof that the rule, not an accident, failed it. */
const verdicts: Record<string, RegExp> = {
  'create-is-inert': /create\(\) started Timeout/,
  'prestart-honours-deadline': /preStart settled \d+ ms after its signal aborted/,
  'prestart-failure-leaks-nothing': /after preStart failed these stayed open: .*TCPWRAP/,
  'onstop-idempotent-bounded': /already stopped/,
  'health-honours-signal': /healthCheck settled \d+ ms after its 50 ms signal aborted/,
  'instances-isolated': /after conformance_a stopped, conformance_b's healthCheck failed/,
  'env-names': /create\(\) read process.env directly: LINE_URL/,
  'secrets-hidden': /a sensitive value appears in the logs/,
  'target-without-password': /target contains a password/,
  'nonretryable-only-when-permanent': /NonRetryableError for an outage/,
};

describe('the conformance suite fails a plugin that breaks a rule', () => {
  for (const rule of conformanceRules) {
    it(`${rule.id}: fails the plugin built to break it, passes the correct one`, async () => {
      const flawed = broken[rule.id];
      await assert.rejects(() => rule.run(flawed, options()), verdicts[rule.id] as RegExp);
      await rule.run(line, options());
    });
  }

  it('a broken plugin breaks only its own rule', async () => {
    // A password in target also reaches the errors that name the target.
    const implied = new Set(['target-without-password/secrets-hidden']);
    const failures: string[] = [];
    for (const [flaw, plugin] of Object.entries(broken)) {
      for (const rule of conformanceRules) {
        if (rule.id === flaw || implied.has(`${flaw}/${rule.id}`)) continue;
        await rule.run(plugin, options()).catch((error: Error) => failures.push(`${flaw} failed ${rule.id}: ${error.message}`));
      }
    }
    assert.deepEqual(failures, []);
  });
});

describe('pluginConformance registers every rule', () => {
  pluginConformance(line, lineOptions);
});
