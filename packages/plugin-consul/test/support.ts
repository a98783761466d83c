import { fileURLToPath } from 'node:url';
import http from 'node:http';
import { spawnProcess, type FakeConsul, type OutputLine, type SpawnedProcess } from '@plinth/testkit';

const fixture = fileURLToPath(new URL('./fixtures/peer-app.ts', import.meta.url));
const packageDir = fileURLToPath(new URL('..', import.meta.url));

export interface Peer {
  readonly proc: SpawnedProcess;
  /** The port the app's HTTP server listens on (it asked for 0). */
  readonly port: number;
  readonly url: string;
}

/** Spawns the fixture app against `consul` and waits until its HTTP server listens. */
export async function startPeer(consul: FakeConsul | undefined, env: Record<string, string | undefined> = {}): Promise<Peer> {
  const proc = spawnProcess({
    args: ['--import', 'tsx', fixture],
    cwd: packageDir,
    env: {
      PEER_APP_HEALTH_PORT: '0',
      PEER_APP_SERVICE_REGISTRY_URL: consul?.url,
      PEER_APP_SERVICE_REGISTRY_CHECK_INTERVAL: '300ms',
      NODE_ENV: undefined,
      KUBERNETES_SERVICE_HOST: undefined,
      POD_IP: undefined,
      ...env,
    },
  });
  const listening = (await proc.waitForLine((line) => typeof line === 'object' && /HTTP server listening/.test(String(line['msg'])), 20_000)) as Record<string, unknown>;
  const port = Number(listening['port']);
  return { proc, port, url: `http://127.0.0.1:${port}` };
}

/** The `time` of the first log line matching `pattern` in `msg`. */
export function logTime(proc: SpawnedProcess, pattern: RegExp): number | undefined {
  const line = proc.lines.find((l): l is Record<string, unknown> => typeof l === 'object' && pattern.test(String(l['msg'])));
  return line === undefined ? undefined : Number(line['time']);
}

export function logLines(proc: SpawnedProcess, pattern: RegExp): Record<string, unknown>[] {
  return proc.lines.filter((l: OutputLine): l is Record<string, unknown> => typeof l === 'object' && pattern.test(String(l['msg'])));
}

/** One GET on a fresh connection. */
export function get(url: string, timeoutMs = 2000): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent: false, headers: { connection: 'close' } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}

export async function getJson<T>(url: string): Promise<T> {
  const { status, body } = await get(url);
  if (status !== 200) throw new Error(`GET ${url}: ${status} ${body}`);
  return JSON.parse(body) as T;
}

export interface ResolveAnswer {
  readonly instances: { id: string; service: string; address: string; port: number; status: string }[];
  readonly stale: boolean;
  readonly ageMs: number;
}
