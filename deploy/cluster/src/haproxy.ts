import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import net from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { spawnProcess, waitFor, type SpawnedProcess } from '@plinth/testkit';
import { BACKEND, haproxyConfig, type HaproxyConfigInput } from './haproxy-config.js';

const run = promisify(execFile);
const SEARCH_PATH = ['/usr/sbin/haproxy', '/usr/local/sbin/haproxy', '/usr/bin/haproxy', '/usr/local/bin/haproxy'];

/** The haproxy binary, or undefined when it is not installed. */
export function findHaproxy(): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(':')) {
    if (dir && existsSync(join(dir, 'haproxy'))) return join(dir, 'haproxy');
  }
  return SEARCH_PATH.find((path) => existsSync(path));
}

/** Installs Debian's haproxy package when it is missing, saying so. Needs root (apt-get). */
export async function ensureHaproxy(log: (line: string) => void): Promise<string> {
  const found = findHaproxy();
  if (found) return found;
  log('haproxy is not installed: installing Debian\'s package (apt-get update && apt-get install -y haproxy)');
  try {
    await run('apt-get', ['update'], { timeout: 300_000 });
    await run('apt-get', ['install', '-y', 'haproxy'], { timeout: 300_000, env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  } catch (err) {
    const reason = err instanceof Error ? err.message.split('\n')[0] : String(err);
    throw new Error(`could not install haproxy with apt-get (${reason}); install it and run again`, { cause: err });
  }
  const installed = findHaproxy();
  if (!installed) throw new Error('apt-get installed haproxy but no haproxy binary was found');
  return installed;
}

/** A running HAProxy in front of the replicas. */
export interface Haproxy {
  readonly url: string;
  readonly process: SpawnedProcess;
  /** Server name → HAProxy's status of it (`UP`, `DOWN`, `UP 1/2`, `MAINT` …). */
  serverStatus(): Promise<Map<string, string>>;
  /** Resolves once HAProxy reports `server` fully UP (in rotation). */
  waitUntilUp(server: string, timeoutMs?: number): Promise<void>;
  /** Resolves once HAProxy reports `server` DOWN (out of rotation). */
  waitUntilDown(server: string, timeoutMs?: number): Promise<void>;
  /** Request log lines: HAProxy logs only failed or retried requests (`option dontlog-normal`). */
  requestLog(): readonly string[];
  /** Server state changes HAProxy logged (`Server replicas/r1 is DOWN …`). */
  stateLog(): readonly string[];
  stop(): Promise<void>;
}

export async function startHaproxy(binary: string, workDir: string, input: Omit<HaproxyConfigInput, 'statsSocket'>): Promise<Haproxy> {
  const statsSocket = join(workDir, 'haproxy.sock');
  const configPath = join(workDir, 'haproxy.cfg');
  await writeFile(configPath, haproxyConfig({ ...input, statsSocket }));
  await run(binary, ['-c', '-q', '-f', configPath]).catch((err: Error) => {
    throw new Error(`haproxy rejected ${configPath}: ${err.message}`);
  });
  // -db: stay in the foreground, so the process we hold is HAProxy itself.
  const child = spawnProcess({ command: binary, args: ['-db', '-f', configPath], detached: true });
  const url = `http://127.0.0.1:${input.port}`;
  await waitFor(() => existsSync(statsSocket) || child.exitInfo !== undefined, { timeoutMs: 10_000, message: 'haproxy opens its stats socket' });
  if (child.exitInfo) throw new Error(`haproxy exited at start:\n${child.tail()}`);

  const serverStatus = async (): Promise<Map<string, string>> => {
    const csv = await runtimeApi(statsSocket, 'show stat');
    const [header, ...rows] = csv.replace(/^# /, '').trim().split('\n');
    const columns = (header ?? '').split(',');
    const [px, sv, status] = ['pxname', 'svname', 'status'].map((name) => columns.indexOf(name));
    const states = new Map<string, string>();
    for (const row of rows) {
      const cells = row.split(',');
      if (cells[px!] === BACKEND && !['BACKEND', 'FRONTEND'].includes(cells[sv!] ?? '')) states.set(cells[sv!] ?? '', cells[status!] ?? '');
    }
    return states;
  };
  const waitForStatus = (server: string, wanted: (status: string) => boolean, what: string, timeoutMs: number): Promise<void> =>
    waitFor(async () => wanted((await serverStatus()).get(server) ?? ''), { timeoutMs, intervalMs: 50, message: `haproxy reports ${server} ${what}` }).then(
      () => undefined,
    );

  return {
    url,
    process: child,
    serverStatus,
    waitUntilUp: (server, timeoutMs = 60_000) => waitForStatus(server, (status) => status === 'UP', 'UP', timeoutMs),
    waitUntilDown: (server, timeoutMs = 30_000) => waitForStatus(server, (status) => status.startsWith('DOWN'), 'DOWN', timeoutMs),
    requestLog: () => logLines(child).filter((line) => !STATE_LINE.test(line)),
    stateLog: () => logLines(child).filter((line) => STATE_LINE.test(line)),
    async stop() {
      // SIGUSR1 is HAProxy's soft stop: it finishes the requests it holds, then exits.
      child.signal('SIGUSR1');
      const timer = setTimeout(() => child.signal('SIGKILL'), 10_000);
      await child.exited;
      clearTimeout(timer);
    },
  };
}

const STATE_LINE = /^(Server|Proxy|Backend) \S+ (is|has)/;

function logLines(child: SpawnedProcess): string[] {
  return child.lines.filter((line): line is string => typeof line === 'string' && line.trim() !== '');
}

/** One command on HAProxy's runtime API (the stats socket); resolves with its answer. */
function runtimeApi(socketPath: string, command: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(socketPath);
    let answer = '';
    socket.setEncoding('utf8');
    socket.setTimeout(5000, () => socket.destroy(new Error(`haproxy runtime API: no answer to "${command}"`)));
    socket.on('connect', () => socket.write(`${command}\n`));
    socket.on('data', (chunk: string) => (answer += chunk));
    socket.on('end', () => resolve(answer));
    socket.on('error', reject);
  });
}
