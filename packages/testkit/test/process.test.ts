import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { freePort, spawnProcess, waitFor } from '../src/index.js';

// Logs pino-like JSON, a plain line, and exits with code 3 on SIGTERM.
const APP = `
const log = (o) => process.stdout.write(JSON.stringify({ level: 30, time: Date.now(), ...o }) + '\\n');
log({ msg: 'starting', env: process.env.PLINTH_TEST_VALUE ?? null, removed: process.env.PLINTH_TEST_REMOVED ?? null });
console.log('plain text line');
process.on('SIGTERM', () => { log({ msg: 'got SIGTERM' }); process.exit(3); });
setInterval(() => {}, 1000);
log({ msg: 'ready' });
`;

describe('spawnProcess', () => {
  it('collects JSON and raw lines, delivers signals and reports the exit', async () => {
    process.env.PLINTH_TEST_REMOVED = 'inherited';
    const proc = spawnProcess({ args: ['-e', APP], env: { PLINTH_TEST_VALUE: 'hello', PLINTH_TEST_REMOVED: undefined } });
    try {
      assert.equal(typeof proc.pid, 'number');
      const ready = await proc.waitForLine((line) => typeof line === 'object' && line.msg === 'ready', 5000);
      assert.equal(typeof ready === 'object' && ready.level, 30);

      const [first, second] = proc.lines;
      assert.deepEqual(typeof first === 'object' && [first.msg, first.env, first.removed], ['starting', 'hello', null]);
      assert.equal(second, 'plain text line');
      assert.equal(await proc.waitForLine(/^plain/, 1000), 'plain text line');

      await assert.rejects(proc.waitForLine(/^plain/, 100, { from: proc.lines.length }), /not matched within 100 ms/);

      assert.equal(proc.signal('SIGTERM'), true);
      const exit = await proc.exited;
      assert.deepEqual(exit, { code: 3, signal: null });
      assert.ok(proc.stdout.includes('"msg":"got SIGTERM"'));
      assert.equal(proc.signal('SIGTERM'), false, 'signal after exit');
    } finally {
      delete process.env.PLINTH_TEST_REMOVED;
      await proc.kill();
    }
  });

  it('timeout error includes the last lines of output', async () => {
    const proc = spawnProcess({ args: ['-e', 'console.log("line-one"); console.error("oops-on-stderr"); setInterval(() => {}, 1000)'] });
    try {
      await waitFor(() => proc.stderrLines.length === 1 && proc.lines.length === 1);
      await assert.rejects(proc.waitForLine(/never/, 200), (err: Error) => {
        assert.match(err.message, /not matched within 200 ms/);
        assert.match(err.message, /line-one/);
        assert.match(err.message, /\[stderr\] oops-on-stderr/);
        return true;
      });
    } finally {
      const exit = await proc.kill();
      assert.equal(exit.signal, 'SIGKILL');
    }
  });

  it('waitForLine rejects as soon as the process exits without matching', async () => {
    const proc = spawnProcess({ args: ['-e', 'console.log("bye"); process.exit(7)'] });
    await assert.rejects(proc.waitForLine(/never/, 10_000), /process exited \(code 7/);
    assert.deepEqual(await proc.exited, { code: 7, signal: null });
  });

  it('waitForHttp polls until the expected status', async () => {
    const port = await freePort();
    // Answers 503 for the first few requests, then 200.
    const script = `
      let n = 0;
      require('node:http').createServer((req, res) => { n++; res.statusCode = n < 3 ? 503 : 200; res.end('n=' + n); })
        .listen(${port}, '127.0.0.1');
    `;
    const proc = spawnProcess({ args: ['-e', script] });
    try {
      const res = await proc.waitForHttp(`http://127.0.0.1:${port}/`, { status: 200, timeoutMs: 5000, intervalMs: 10 });
      assert.equal(res.status, 200);
      assert.equal(res.body, 'n=3');
    } finally {
      await proc.kill();
    }
  });

  it('waitForHttp fails fast with output when the process dies', async () => {
    const port = await freePort();
    const proc = spawnProcess({ args: ['-e', 'console.error("cannot start"); process.exit(1)'] });
    await assert.rejects(proc.waitForHttp(`http://127.0.0.1:${port}/`, { timeoutMs: 5000 }), (err: Error) => {
      assert.match(err.message, /process exited \(code 1/);
      assert.match(err.message, /cannot start/);
      return true;
    });
  });

  it('SIGKILLs leftover children when the test process exits', async () => {
    const index = fileURLToPath(new URL('../src/index.ts', import.meta.url));
    const parentScript = `
      import { spawnProcess } from ${JSON.stringify(index)};
      const child = spawnProcess({ args: ['-e', 'setInterval(() => {}, 1000)'] });
      console.log(JSON.stringify({ childPid: child.pid }));
      setTimeout(() => process.exit(0), 100);
    `;
    const parent = spawnProcess({ args: ['--import', 'tsx', '--input-type=module', '-e', parentScript] });
    const line = await parent.waitForLine((l) => typeof l === 'object' && typeof l.childPid === 'number', 10_000);
    const childPid = typeof line === 'object' ? Number(line.childPid) : NaN;
    assert.ok(childPid > 0);
    assert.deepEqual(await parent.exited, { code: 0, signal: null });
    const alive = (): boolean => {
      try {
        process.kill(childPid, 0);
        return true;
      } catch {
        return false;
      }
    };
    await waitFor(() => !alive(), { timeoutMs: 3000, message: `orphan ${childPid} killed` });
  });
});
