import { performance } from 'node:perf_hooks';
import {
  createApp,
  definePlugin,
  NonRetryableError,
  setting,
  type App,
  type AppOptions,
  type HealthCheck,
  type HookContext,
  type LifecycleEvent,
  type OnStart,
  type OnStop,
  type PluginContext,
  type PreStart,
  type SettingsSchema,
} from '../../src/index.js';
import { LogCapture } from '@plinth/testkit';

/** One hook call, recorded with monotonic start/end times. */
export interface HookCall {
  readonly component: string;
  readonly hook: 'preStart' | 'onStart' | 'onStop';
  readonly start: number;
  end?: number;
  outcome?: 'ok' | 'error' | 'aborted';
}

export class Recorder {
  readonly calls: HookCall[] = [];

  record(component: string, hook: HookCall['hook']): HookCall {
    const call: HookCall = { component, hook, start: performance.now() };
    this.calls.push(call);
    return call;
  }

  of(hook: HookCall['hook']): HookCall[] {
    return this.calls.filter((c) => c.hook === hook);
  }

  first(component: string, hook: HookCall['hook']): HookCall | undefined {
    return this.calls.find((c) => c.component === component && c.hook === hook);
  }

  /** Components in the order their hook finished successfully. */
  finishedOrder(hook: HookCall['hook']): string[] {
    return this.of(hook)
      .filter((c) => c.outcome === 'ok')
      .sort((a, b) => (a.end ?? 0) - (b.end ?? 0))
      .map((c) => c.component);
  }
}

/** How a scripted plugin behaves; every field can change while the test runs. */
export interface Behaviour {
  preStartMs?: number;
  /** Number of preStart attempts that fail before one succeeds (Infinity: always). */
  failPreStart?: number;
  hangPreStart?: boolean;
  /** The failing attempts throw NonRetryableError (retrying cannot help). */
  failPermanently?: boolean;
  onStopMs?: number;
  hangOnStop?: boolean;
  failOnStop?: boolean;
}

/** A plugin written for the tests: latency, failures and hangs follow a script the test sets. */
export class ScriptedPlugin implements PreStart, OnStart, OnStop, HealthCheck {
  attempts = 0;

  constructor(
    readonly ctx: PluginContext<{ host: string; password: string | undefined }, { behaviour: Behaviour; recorder: Recorder }>,
  ) {}

  /** Where it pretends to connect: named in startup errors. */
  get target(): string {
    return `${this.ctx.settings.host}:5432`;
  }

  get behaviour(): Behaviour {
    return this.ctx.options.behaviour;
  }

  async preStart(ctx: HookContext): Promise<void> {
    this.attempts += 1;
    const call = this.ctx.options.recorder.record(this.ctx.prefix, 'preStart');
    try {
      if (this.behaviour.hangPreStart) await new Promise(() => undefined);
      await sleep(this.behaviour.preStartMs ?? 0, ctx.signal);
      if (this.attempts <= (this.behaviour.failPreStart ?? 0)) {
        if (this.behaviour.failPermanently) throw new NonRetryableError(`password authentication failed for ${this.ctx.settings.host}`);
        throw new Error(`connect ECONNREFUSED ${this.ctx.settings.host}:5432 (password ${this.ctx.settings.password ?? ''})`);
      }
      call.outcome = 'ok';
    } catch (error) {
      call.outcome = ctx.signal.aborted ? 'aborted' : 'error';
      throw error;
    } finally {
      call.end = performance.now();
    }
  }

  onStart(): void {
    const call = this.ctx.options.recorder.record(this.ctx.prefix, 'onStart');
    call.outcome = 'ok';
    call.end = performance.now();
  }

  async onStop(ctx: HookContext): Promise<void> {
    const call = this.ctx.options.recorder.record(this.ctx.prefix, 'onStop');
    if (this.behaviour.hangOnStop) await new Promise(() => undefined);
    await sleep(this.behaviour.onStopMs ?? 0, ctx.signal);
    call.end = performance.now();
    if (this.behaviour.failOnStop) {
      call.outcome = 'error';
      throw new Error('close failed');
    }
    call.outcome = 'ok';
  }

  /** An API call: fails fast while the plugin is unavailable. */
  query(): string {
    this.ctx.availability.assertAvailable();
    return `${this.ctx.prefix}:ok`;
  }

  healthCheck(): void {
    this.ctx.availability.assertAvailable();
  }
}

export const scripted = definePlugin({
  type: 'scripted',
  critical: true,
  settings: {
    host: setting.string({ doc: 'Host to pretend to connect to', default: 'localhost' }),
    password: setting.string({ doc: 'Password', sensitive: true }),
  },
  create: (ctx: PluginContext<{ host: string; password: string | undefined }, { behaviour: Behaviour; recorder: Recorder }>) =>
    new ScriptedPlugin(ctx),
});

/** createApp with fast backoffs, a log sink and a lifecycle event recorder. */
export function testApp<S extends SettingsSchema>(
  options: Omit<AppOptions<S>, 'name'> & { name?: string },
): { app: App<S>; events: LifecycleEvent[]; logs: LogCapture } {
  const logs = new LogCapture();
  const app = createApp<S>({
    name: 'test-app',
    retryBackoff: { initialDelayMs: 10, maxDelayMs: 40 },
    recoveryBackoff: { initialDelayMs: 20, maxDelayMs: 60 },
    logDestination: logs,
    ...options,
    env: { TEST_APP_LOG_LEVEL: 'debug', ...options.env },
  });
  const events: LifecycleEvent[] = [];
  app.on('lifecycle', (event) => events.push(event));
  return { app, events, logs };
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason as Error);
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => (clearTimeout(timer), reject(signal.reason as Error)), { once: true });
  });
}
