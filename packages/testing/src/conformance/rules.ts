import { envName, NonRetryableError } from '@plinth/core';
import { HandleTracker } from './resources.js';
import { SilentServer } from './silent-server.js';
import { buildInstance, CONFORMANCE_APP, hookContext, type BuiltInstance, type PluginHooks, type PluginUnderTest } from './subject.js';

export type Address = { readonly host: string; readonly port: number };
type Settings = Readonly<Record<string, unknown>>;

export interface ConformanceOptions {
  /** Setting values under which preStart succeeds: a reachable server, or the embedded mode. */
  readonly settings: Settings;
  /**
   * Setting values pointing the plugin at `address`, a server that accepts connections and never
   * answers. Without it the rules that need a hanging dependency fail and say so.
   */
  readonly unreachable?: (address: Address) => Settings;
  /**
   * Values of sensitive settings, merged over `unreachable(address)`: each must be valid for
   * its setting (a URL with a password, say). Plain string settings get one generated.
   */
  readonly secrets?: (address: Address) => Readonly<Record<string, string>>;
  /**
   * Optional: proves two instances keep separate state. `write` stores `key` through one
   * instance; `sees` answers whether another instance can read it.
   */
  readonly isolation?: {
    write(instance: object, key: string): Promise<void>;
    sees(instance: object, key: string): Promise<boolean>;
  };
  /**
   * The plugin does not contact its dependency in preStart on purpose (error tracking: a
   * hung ingest endpoint must never delay startup). preStart must then settle within its
   * deadline without failing, instead of failing against a dependency that never answers.
   */
  readonly startsWithoutDependency?: boolean;
  /** preStart and onStop deadline used by the rules (ms, default 1000). */
  readonly deadlineMs?: number;
  /** How long past its deadline a hook may take to settle (ms, default 100). */
  readonly overrunMs?: number;
}

export interface ConformanceRule {
  readonly id: RuleId;
  readonly title: string;
  /** Throws an Error saying what the plugin did wrong. */
  run(plugin: PluginUnderTest, options: ConformanceOptions): Promise<void>;
}

export type RuleId =
  | 'create-is-inert'
  | 'prestart-honours-deadline'
  | 'prestart-failure-leaks-nothing'
  | 'onstop-idempotent-bounded'
  | 'health-honours-signal'
  | 'instances-isolated'
  | 'env-names'
  | 'secrets-hidden'
  | 'target-without-password'
  | 'nonretryable-only-when-permanent';

const PREFIX = 'conformance_db';

export const rules: readonly ConformanceRule[] = [
  {
    id: 'create-is-inert',
    title: 'create() opens no socket, starts no timer and does no I/O',
    async run(plugin, options) {
      const built = await buildInstance(plugin, PREFIX, options.settings);
      if (built.createdDuringCreate.length) {
        throw new Error(`create() started ${built.createdDuringCreate.join(', ')}; move I/O and timers to preStart/onStart`);
      }
    },
  },
  {
    id: 'prestart-honours-deadline',
    title: 'preStart settles within its abort signal deadline against a dependency that never answers',
    async run(plugin, options) {
      await withUnreachable(plugin, options, async (built, { deadlineMs, overrunMs }) => {
        const { overrun, error } = await failingPreStart(built.instance, deadlineMs);
        if (options.startsWithoutDependency) {
          if (error !== undefined) throw new Error(`preStart failed although the plugin starts without its dependency: ${String(error)}`);
        } else if (error === undefined) {
          throw new Error('preStart resolved against a server that never answers');
        }
        if (overrun > overrunMs) throw new Error(`preStart settled ${Math.round(overrun)} ms after its signal aborted (allowed: ${overrunMs} ms)`);
      });
    },
  },
  {
    id: 'prestart-failure-leaks-nothing',
    title: 'a failed preStart leaves no open socket or timer behind',
    async run(plugin, options) {
      await withUnreachable(plugin, options, async (built, { deadlineMs, overrunMs }, server) => {
        const tracker = new HandleTracker();
        tracker.start();
        try {
          await failingPreStart(built.instance, deadlineMs);
          tracker.pause();
          const leaked = await settled(tracker, overrunMs * 5);
          if (leaked.length) {
            const held = server.openSockets ? ` (the silent server still holds ${server.openSockets} connection(s) from the plugin open)` : '';
            throw new Error(`after preStart failed these stayed open: ${leaked.join(', ')}${held}`);
          }
        } finally {
          tracker.stop();
        }
      });
    },
  },
  {
    id: 'onstop-idempotent-bounded',
    title: 'onStop can be called again, concurrently or later, and settles within its deadline',
    async run(plugin, options) {
      const { deadlineMs, overrunMs } = limits(options);
      const built = await buildInstance(plugin, PREFIX, options.settings);
      await built.start(AbortSignal.timeout(30_000));
      const stop = async (): Promise<number> => {
        const signal = AbortSignal.timeout(deadlineMs);
        return overrunOf(signal, Promise.resolve(built.instance.onStop?.(hookContext(signal))));
      };
      const overruns = [...(await Promise.all([stop(), stop()])), await stop()];
      const worst = Math.max(...overruns);
      if (worst > overrunMs) throw new Error(`onStop settled ${Math.round(worst)} ms after its ${deadlineMs} ms deadline`);
    },
  },
  {
    id: 'health-honours-signal',
    title: 'healthCheck settles by the time its signal aborts',
    async run(plugin, options) {
      const { overrunMs } = limits(options);
      const built = await buildInstance(plugin, PREFIX, options.settings);
      if (built.instance.healthCheck === undefined) return;
      await built.start(AbortSignal.timeout(30_000));
      try {
        const timeoutMs = 50;
        const signal = AbortSignal.timeout(timeoutMs);
        const overrun = await overrunOf(signal, Promise.resolve(built.instance.healthCheck({ signal })).catch(() => undefined));
        if (overrun > overrunMs) throw new Error(`healthCheck settled ${Math.round(overrun)} ms after its ${timeoutMs} ms signal aborted`);
      } finally {
        await built.instance.onStop?.(hookContext(AbortSignal.timeout(10_000)));
      }
    },
  },
  {
    id: 'instances-isolated',
    title: 'two instances with different prefixes share no state: stopping one leaves the other working',
    async run(plugin, options) {
      const a = await buildInstance(plugin, 'conformance_a', options.settings);
      const b = await buildInstance(plugin, 'conformance_b', options.settings);
      if (a.instance === b.instance) throw new Error('create() returned the same object for two prefixes');
      await a.start(AbortSignal.timeout(30_000));
      await b.start(AbortSignal.timeout(30_000));
      let aStopped = false;
      try {
        if (options.isolation) {
          const key = `conformance-${process.pid}-${Date.now()}`;
          await options.isolation.write(a.instance, key);
          if (await options.isolation.sees(b.instance, key)) throw new Error('what one instance stored, the other can read');
        }
        await a.instance.onStop?.(hookContext(AbortSignal.timeout(10_000)));
        aStopped = true;
        await Promise.resolve(b.instance.healthCheck?.({ signal: AbortSignal.timeout(5_000) })).catch((error: unknown) => {
          throw new Error(`after conformance_a stopped, conformance_b's healthCheck failed: ${String((error as Error).message ?? error)}`);
        });
      } finally {
        if (!aStopped) await a.instance.onStop?.(hookContext(AbortSignal.timeout(10_000)));
        await b.instance.onStop?.(hookContext(AbortSignal.timeout(10_000)));
      }
    },
  },
  {
    id: 'env-names',
    title: 'settings are read from {APP}_{PREFIX}_{SETTING} only, never from process.env directly',
    async run(plugin, options) {
      const built = await buildInstance(plugin, PREFIX, options.settings);
      const declared = plugin(PREFIX);
      const badKeys = Object.keys(declared.settings).filter((key) => !/^[a-z][a-zA-Z0-9]*$/.test(key));
      if (badKeys.length) throw new Error(`setting keys must be camelCase so their env names read back: ${badKeys.join(', ')}`);
      const expected = `${envName(CONFORMANCE_APP, PREFIX)}_`;
      const own = built.app.describeSettings().filter((entry) => entry.owner.endsWith(` ${PREFIX}`));
      const misnamed = own.filter((entry) => !entry.env.startsWith(expected)).map((entry) => entry.env);
      if (misnamed.length) throw new Error(`env names outside ${expected}*: ${misnamed.join(', ')}`);
      const direct = [...new Set(built.envReads)].filter((name) => name !== 'NODE_ENV');
      if (direct.length) throw new Error(`create() read process.env directly: ${direct.join(', ')}; declare settings instead`);
    },
  },
  {
    id: 'secrets-hidden',
    title: 'sensitive values appear in no --help default, error message or log line',
    async run(plugin, options) {
      await withUnreachable(plugin, options, async (built, { deadlineMs }, _server, secrets) => {
        // What --help prints for each setting: its default, masked when sensitive.
        const help = JSON.stringify(built.app.describeSettings());
        const { error } = await failingPreStart(built.instance, deadlineMs);
        const places: [string, string][] = [
          ['--help', help],
          ['the preStart error', messageChain(error)],
          ['the logs', built.logs.text()],
        ];
        for (const [where, text] of places) {
          const shown = secrets.filter((secret) => text.includes(secret));
          if (shown.length) throw new Error(`a sensitive value appears in ${where}`);
        }
      });
    },
  },
  {
    id: 'target-without-password',
    title: 'target names where the plugin connects without any credential',
    async run(plugin, options) {
      await withUnreachable(plugin, options, async (built, _limits, _server, secrets) => {
        const target = built.instance.target;
        if (target === undefined) return;
        if (typeof target !== 'string') throw new Error('target must be a string');
        if (secrets.some((secret) => target.includes(secret)) || /:\/\/[^/@\s]*:[^/@\s]+@/.test(target)) {
          throw new Error('target contains a password');
        }
      });
    },
  },
  {
    id: 'nonretryable-only-when-permanent',
    title: 'an unreachable dependency fails preStart with a retryable error, not NonRetryableError',
    async run(plugin, options) {
      await withUnreachable(plugin, options, async (built, { deadlineMs }) => {
        const { error } = await failingPreStart(built.instance, deadlineMs);
        if (NonRetryableError.is(error)) {
          throw new Error('preStart threw NonRetryableError for an outage, which a retry can outlast');
        }
      });
    },
  },
];

function limits(options: ConformanceOptions): { deadlineMs: number; overrunMs: number } {
  return { deadlineMs: options.deadlineMs ?? 1000, overrunMs: options.overrunMs ?? 100 };
}

/** Builds an instance aimed at a silent server, with the sensitive settings set, and cleans up. */
async function withUnreachable(
  plugin: PluginUnderTest,
  options: ConformanceOptions,
  body: (built: BuiltInstance, limits: { deadlineMs: number; overrunMs: number }, server: SilentServer, secrets: readonly string[]) => Promise<void>,
): Promise<void> {
  if (options.unreachable === undefined) {
    throw new Error('this rule needs the unreachable option: settings that point the plugin at a given host and port');
  }
  const server = new SilentServer();
  const address = await server.listen();
  try {
    const declared = plugin(PREFIX);
    const pointed = options.unreachable(address);
    const given = options.secrets?.(address) ?? {};
    const sensitive = Object.entries(declared.settings).filter(([, spec]) => spec.sensitive);
    const generated = Object.fromEntries(
      sensitive
        .filter(([key, spec]) => given[key] === undefined && pointed[key] === undefined && spec.format.expected.includes('string'))
        .map(([key]) => [key, `conformance-secret-${key}-${process.pid}`]),
    );
    const settings: Record<string, unknown> = { ...pointed, ...generated, ...given };
    const secretValues = sensitive.map(([key]) => settings[key]).filter((value): value is string => typeof value === 'string' && value !== '');
    const built = await buildInstance(plugin, PREFIX, settings);
    await body(built, limits(options), server, secretValues.map(secretPart));
  } finally {
    await server.close();
  }
}

/** The part of a sensitive value that must never show: a URL's password, else the whole value. */
function secretPart(value: string): string {
  try {
    const password = new URL(value).password;
    if (password) return decodeURIComponent(password);
  } catch {
    // not a URL: the whole value is the secret
  }
  return value;
}

/**
 * How long `work` took to settle after `signal` aborted (0 when it settled first). Measured
 * from the abort event, not from a computed deadline, so a busy machine that delays both
 * the abort and the settling does not count against the plugin.
 */
async function overrunOf(signal: AbortSignal, work: Promise<unknown>): Promise<number> {
  let abortedAt: number | undefined;
  signal.addEventListener('abort', () => (abortedAt = performance.now()), { once: true });
  await work;
  return abortedAt === undefined ? 0 : performance.now() - abortedAt;
}

async function failingPreStart(instance: PluginHooks, deadlineMs: number): Promise<{ overrun: number; error: unknown }> {
  const signal = AbortSignal.timeout(deadlineMs);
  let error: unknown;
  const overrun = await overrunOf(
    signal,
    Promise.resolve()
      .then(() => instance.preStart?.(hookContext(signal)))
      .catch((caught: unknown) => void (error = caught)),
  );
  if (error === undefined) await Promise.resolve(instance.onStop?.(hookContext(AbortSignal.timeout(deadlineMs)))).catch(() => undefined);
  return { overrun, error };
}

/** Waits (up to `withinMs`) for what the hook opened to close; returns what is still open. */
async function settled(tracker: HandleTracker, withinMs: number): Promise<string[]> {
  const deadline = performance.now() + withinMs;
  for (;;) {
    // Let closed handles' destroy hooks run before looking.
    await new Promise((resolve) => setImmediate(resolve));
    const alive = tracker.alive();
    if (alive.length === 0 || performance.now() > deadline) return alive;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function messageChain(error: unknown): string {
  const parts: string[] = [];
  for (let e = error, depth = 0; e !== undefined && e !== null && depth < 10; e = (e as { cause?: unknown }).cause, depth++) {
    parts.push(e instanceof Error ? `${e.message}\n${e.stack ?? ''}` : String(e));
  }
  return parts.join('\n');
}
