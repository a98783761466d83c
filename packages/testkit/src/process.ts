import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import http from 'node:http';
import { sleep } from './wait-for.js';

/** Options for {@link spawnProcess}. */
export interface SpawnProcessOptions {
  /** Executable. Default: the current Node binary. */
  readonly command?: string;
  readonly args?: readonly string[];
  /** Merged over a clean copy of process.env; `undefined` removes a variable. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly cwd?: string;
  /**
   * Runs the child in its own process group, so a terminal's Ctrl-C reaches only the
   * parent, which then stops its children in the order it chooses. Default false.
   */
  readonly detached?: boolean;
}

/** A parsed JSON log object (pino) or, when a line is not a JSON object, the raw text. */
export type OutputLine = Readonly<Record<string, unknown>> | string;

/** Matches output lines: a RegExp tests the raw text; a function gets the parsed line and the raw text. */
export type LineMatcher = RegExp | ((line: OutputLine, raw: string) => boolean);

/** How a process ended. */
export interface ProcessExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** A child process under test. */
export interface SpawnedProcess {
  /** Undefined only when the spawn itself failed (see `exited`). */
  readonly pid: number | undefined;
  /** All stdout / stderr text so far. */
  readonly stdout: string;
  readonly stderr: string;
  /** Complete stdout lines so far, JSON objects parsed. */
  readonly lines: readonly OutputLine[];
  /** Complete stderr lines so far, raw. */
  readonly stderrLines: readonly string[];
  /** Exit info once it has exited, else undefined. */
  readonly exitInfo: ProcessExit | undefined;
  /**
   * Resolves with the first stdout line (index >= `options.from`, default 0, so
   * earlier lines count) that matches. Rejects on timeout or if the process exits first.
   */
  waitForLine(matcher: LineMatcher, timeoutMs?: number, options?: { from?: number }): Promise<OutputLine>;
  /**
   * Polls `url` (one fresh, non-keep-alive connection per attempt, so nothing is
   * left open against the app) until it answers with `status`, or with any
   * status if omitted. Rejects on timeout or if the process exits first.
   */
  waitForHttp(url: string, options?: { status?: number; timeoutMs?: number; intervalMs?: number }): Promise<{ status: number; body: string }>;
  /** Sends a signal to the process (not its children). False if it already exited. */
  signal(signal: NodeJS.Signals): boolean;
  /** Resolves once the process has exited and its output is collected. Never rejects. */
  readonly exited: Promise<ProcessExit>;
  /** SIGKILLs the process (if running) and waits for its exit. */
  kill(): Promise<ProcessExit>;
  /** The last `n` lines of stdout and stderr interleaved, for error messages. */
  tail(n?: number): string;
}

const live = new Set<ChildProcess>();
let exitHookInstalled = false;

/** Leftover children would keep ports and connections busy for the next test file. */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const child of live) {
      try {
        child.kill('SIGKILL');
      } catch {
        // Already gone.
      }
    }
  });
}

/** Env vars of the test runner that must not leak into an app under test. */
const RUNNER_ENV = ['NODE_TEST_CONTEXT', 'NODE_CHANNEL_FD', 'NODE_CHANNEL_SERIALIZATION_MODE'];

function childEnv(overrides: Readonly<Record<string, string | undefined>> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const key of RUNNER_ENV) delete env[key];
  for (const [key, value] of Object.entries(overrides)) {
    if (value === undefined) delete env[key];
    else env[key] = value;
  }
  return env;
}

function parseLine(raw: string): OutputLine {
  if (!raw.startsWith('{')) return raw;
  try {
    const value: unknown = JSON.parse(raw);
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    // Not JSON after all.
  }
  return raw;
}

const TAIL_KEEP = 200;

/**
 * Spawns a process for an end-to-end test: collects its output, waits for log
 * lines or HTTP probes, sends signals, and reports how it exited. Children still
 * running when the test process exits are SIGKILLed.
 */
export function spawnProcess(options: SpawnProcessOptions): SpawnedProcess {
  installExitHook();
  const command = options.command ?? process.execPath;
  const child = spawn(command, [...(options.args ?? [])], {
    env: childEnv(options.env),
    cwd: options.cwd,
    detached: options.detached ?? false,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  live.add(child);

  let stdout = '';
  let stderr = '';
  const lines: OutputLine[] = [];
  const rawLines: string[] = [];
  const stderrLines: string[] = [];
  const recent: string[] = [];
  let spawnError: Error | undefined;
  let exitInfo: ProcessExit | undefined;
  const listeners = new Set<() => void>();
  const notify = (): void => {
    for (const listener of [...listeners]) listener();
  };

  const remember = (line: string): void => {
    recent.push(line);
    if (recent.length > TAIL_KEEP) recent.shift();
  };

  const splitter = (onLine: (line: string) => void): { push(text: string): void; flush(): void } => {
    let carry = '';
    return {
      push(text) {
        carry += text;
        let nl = carry.indexOf('\n');
        while (nl !== -1) {
          onLine(carry.slice(0, nl).replace(/\r$/, ''));
          carry = carry.slice(nl + 1);
          nl = carry.indexOf('\n');
        }
      },
      flush() {
        if (carry !== '') onLine(carry);
        carry = '';
      },
    };
  };

  const outSplit = splitter((line) => {
    rawLines.push(line);
    lines.push(parseLine(line));
    remember(line);
    notify();
  });
  const errSplit = splitter((line) => {
    stderrLines.push(line);
    remember(`[stderr] ${line}`);
    notify();
  });

  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8');
  child.stdout.on('data', (text: string) => {
    stdout += text;
    outSplit.push(text);
  });
  child.stderr.on('data', (text: string) => {
    stderr += text;
    errSplit.push(text);
  });

  let resolveExited!: (info: ProcessExit) => void;
  const exited = new Promise<ProcessExit>((resolve) => {
    resolveExited = resolve;
  });
  let closeFallback: NodeJS.Timeout | undefined;
  const finish = (info: ProcessExit): void => {
    if (exitInfo !== undefined) return;
    clearTimeout(closeFallback);
    outSplit.flush();
    errSplit.flush();
    exitInfo = info;
    live.delete(child);
    resolveExited(info);
    notify();
  };
  child.on('error', (err) => {
    spawnError = err;
    // A failed spawn emits no 'exit'; 'close' may or may not follow.
    if (child.pid === undefined) finish({ code: null, signal: null });
    notify();
  });
  // 'close' waits for stdio, so the output is complete when `exited` resolves.
  child.on('close', (code, signal) => finish({ code, signal }));
  child.on('exit', (code, signal) => {
    // A grandchild holding our pipes would delay 'close' forever.
    closeFallback = setTimeout(() => finish({ code, signal }), 2000);
    closeFallback.unref();
  });

  const tail = (n = 40): string => recent.slice(-n).join('\n');
  const describe = (): string => `${command} ${(options.args ?? []).join(' ')}`.slice(0, 200);
  const failure = (what: string): Error => {
    const why =
      spawnError !== undefined
        ? `spawn failed: ${spawnError.message}`
        : exitInfo !== undefined
          ? `process exited (code ${exitInfo.code}, signal ${exitInfo.signal})`
          : 'timed out';
    return new Error(`${what}: ${why}\n  command: ${describe()}\n--- last output ---\n${tail()}\n---`);
  };

  const waitForLine: SpawnedProcess['waitForLine'] = (matcher, timeoutMs = 10_000, waitOptions = {}) => {
    const test = (i: number): boolean => {
      const raw = rawLines[i] ?? '';
      const line = lines[i] ?? raw;
      if (matcher instanceof RegExp) {
        matcher.lastIndex = 0; // Global regexps are stateful.
        return matcher.test(raw);
      }
      return matcher(line, raw);
    };
    return new Promise<OutputLine>((resolve, reject) => {
      let next = waitOptions.from ?? 0;
      const done = (): void => {
        clearTimeout(timer);
        listeners.delete(check);
      };
      const check = (): void => {
        try {
          for (; next < lines.length; next++) {
            if (test(next)) {
              done();
              resolve(lines[next] ?? '');
              return;
            }
          }
        } catch (err) {
          done();
          reject(err instanceof Error ? err : new Error(String(err)));
          return;
        }
        if (exitInfo !== undefined || spawnError !== undefined) {
          done();
          reject(failure(`waitForLine(${String(matcher)}) never matched`));
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(failure(`waitForLine(${String(matcher)}) not matched within ${timeoutMs} ms`));
      }, timeoutMs);
      listeners.add(check);
      check();
    });
  };

  const waitForHttp: SpawnedProcess['waitForHttp'] = async (url, httpOptions = {}) => {
    const timeoutMs = httpOptions.timeoutMs ?? 10_000;
    const intervalMs = httpOptions.intervalMs ?? 50;
    const deadline = Date.now() + timeoutMs;
    let last = 'no attempt yet';
    for (;;) {
      if (exitInfo !== undefined || spawnError !== undefined) {
        throw failure(`waitForHttp(${url}) gave up (last: ${last})`);
      }
      try {
        const res = await httpGet(url, Math.max(100, Math.min(1000, deadline - Date.now())));
        if (httpOptions.status === undefined || res.status === httpOptions.status) return res;
        last = `status ${res.status}`;
      } catch (err) {
        last = err instanceof Error ? err.message : String(err);
      }
      if (Date.now() >= deadline) {
        const want = httpOptions.status === undefined ? 'any response' : `status ${httpOptions.status}`;
        throw failure(`waitForHttp(${url}) got no ${want} within ${timeoutMs} ms (last: ${last})`);
      }
      await sleep(intervalMs);
    }
  };

  return {
    get pid() {
      return child.pid;
    },
    get stdout() {
      return stdout;
    },
    get stderr() {
      return stderr;
    },
    lines,
    stderrLines,
    get exitInfo() {
      return exitInfo;
    },
    waitForLine,
    waitForHttp,
    signal(sig) {
      if (exitInfo !== undefined || child.exitCode !== null || child.signalCode !== null) return false;
      return child.kill(sig);
    },
    exited,
    async kill() {
      if (exitInfo === undefined && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      return exited;
    },
    tail,
  };
}

/** One GET on a fresh connection that is closed afterwards. */
function httpGet(url: string, timeoutMs: number): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent: false, headers: { connection: 'close' } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        body += chunk;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`no response within ${timeoutMs} ms`)));
    req.on('error', reject);
  });
}
