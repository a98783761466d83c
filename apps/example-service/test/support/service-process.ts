import { fileURLToPath } from 'node:url';
import { freePort, spawnProcess, type SpawnedProcess } from '@plinth/testkit';

const appDir = fileURLToPath(new URL('../../', import.meta.url));
const main = fileURLToPath(new URL('../../src/main.ts', import.meta.url));

export interface RunningService {
  readonly process: SpawnedProcess;
  readonly url: string;
}

/** Spawns the example service on a free port and waits for `/health/startup` (any answer if it may fail). */
export async function startService(env: Record<string, string | undefined>, options: { waitReady?: boolean } = {}): Promise<RunningService> {
  const port = env['EXAMPLE_SERVICE_HTTP_PORT'] ?? String(await freePort());
  const child = spawnProcess({
    args: ['--import', 'tsx', main],
    cwd: appDir,
    env: {
      EXAMPLE_SERVICE_HTTP_PORT: port,
      EXAMPLE_SERVICE_HTTP_HOST: '127.0.0.1',
      EXAMPLE_SERVICE_HEALTH_PORT: String(await freePort()),
      EXAMPLE_SERVICE_LOG_LEVEL: 'info',
      ...env,
    },
  });
  const url = `http://127.0.0.1:${port}`;
  if (options.waitReady ?? true) await child.waitForHttp(`${url}/health/startup`, { status: 200, timeoutMs: 60_000 });
  return { process: child, url };
}

export async function json<T>(response: Response): Promise<T> {
  return (await response.json()) as T;
}

export function postUser(url: string, body: unknown): Promise<Response> {
  return fetch(`${url}/users`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
}
