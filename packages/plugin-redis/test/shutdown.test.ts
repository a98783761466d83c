import { strict as assert } from 'node:assert';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { createScratchRedis, spawnProcess, startRedisServer, type ScratchRedis } from '@plinth/testkit';

const fixture = fileURLToPath(new URL('./fixtures/stop-and-linger.ts', import.meta.url));
const packageDir = fileURLToPath(new URL('..', import.meta.url));

/** Runs the fixture and returns how long the process lived on after its app had stopped. */
async function runFixture(env: Record<string, string>): Promise<{ code: number | null; lingerMs: number; report: unknown }> {
  const child = spawnProcess({ args: ['--import', 'tsx', fixture], env: { CACHE_APP_LOG_LEVEL: 'warn', ...env }, cwd: packageDir });
  const line = (await child.waitForLine((l) => typeof l === 'object' && l['msg'] === 'fixture stopped', 30_000)) as Record<string, unknown>;
  let timer: NodeJS.Timeout | undefined;
  const exit = await Promise.race([child.exited, new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), 5000)))]);
  clearTimeout(timer);
  if (exit === undefined) {
    await child.kill();
    assert.fail(`the process did not exit on its own after app.stop()\n${child.tail()}`);
  }
  return { code: exit.code, lingerMs: Date.now() - Number(line['stoppedAt']), report: line['report'] };
}

describe('a clean stop leaves no open handles', () => {
  let scratch: ScratchRedis;
  before(async () => {
    scratch = await createScratchRedis();
  });
  after(async () => {
    await scratch?.release();
  });

  it('the process exits by itself right after app.stop(), without process.exit', async () => {
    const { code, lingerMs, report } = await runFixture({
      CACHE_APP_SESSION_CACHE_URL: scratch.url,
      CACHE_APP_RATE_LIMITS_URL: scratch.url,
    });
    assert.deepEqual(report, { clean: true, failures: [] });
    assert.equal(code, 0);
    assert.ok(lingerMs < 1000, `exited ${lingerMs} ms after the stop`);
  });

  it('also when Redis died just before the stop and the instance was reconnecting', async () => {
    const server = await startRedisServer();
    try {
      const { code, lingerMs, report } = await runFixture({
        CACHE_APP_SESSION_CACHE_URL: server.url,
        CACHE_APP_RATE_LIMITS_URL: scratch.url,
        KILL_REDIS_PID: String(await redisPid(server.port)),
      });
      assert.deepEqual(report, { clean: true, failures: [] });
      assert.equal(code, 0);
      assert.ok(lingerMs < 1000, `exited ${lingerMs} ms after the stop`);
    } finally {
      await server.close();
    }
  });
});

/** The pid of the redis-server on `port`, from INFO (the fixture kills it from inside). */
async function redisPid(port: number): Promise<number> {
  const { createClient } = await import('@redis/client');
  const client = createClient({ socket: { port, reconnectStrategy: false } });
  client.on('error', () => undefined);
  await client.connect();
  try {
    const info = await client.info('server');
    const match = /process_id:(\d+)/.exec(info);
    if (!match) throw new Error('no process_id in INFO server');
    return Number(match[1]);
  } finally {
    client.destroy();
  }
}
