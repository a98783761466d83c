import { definePlugin, NonRetryableError, setting, type HealthCheckContext, type HookContext, type PluginContext } from '@plinth/core';
import { connect, type Socket } from 'node:net';

/**
 * A small, correct plugin for the conformance suite's own tests: it connects to a TCP
 * server that greets with a line, and every broken plugin below breaks exactly one rule.
 */
export const lineSettings = {
  url: setting.string({ doc: 'tcp://user:password@host:port of the line server', sensitive: true, required: true }),
  token: setting.string({ doc: 'A token sent after connecting', sensitive: true }),
} as const;

type LineContext = PluginContext<{ url: string; token: string | undefined }, object>;

export class LinePlugin {
  protected socket: Socket | undefined;
  #stopping: Promise<void> | undefined;

  constructor(protected readonly ctx: LineContext) {}

  get target(): string {
    const url = new URL(this.ctx.settings.url);
    return `${url.hostname}:${url.port}`;
  }

  async preStart({ signal }: HookContext): Promise<void> {
    const url = new URL(this.ctx.settings.url);
    const socket = connect(Number(url.port), url.hostname);
    this.socket = socket;
    try {
      await this.greeting(socket, signal);
    } catch (error) {
      this.abandon(socket);
      throw error;
    }
  }

  healthCheck({ signal }: HealthCheckContext): Promise<void> {
    if (signal.aborted) return Promise.reject(new Error('health timeout'));
    if (!this.socket || this.socket.destroyed) return Promise.reject(new Error('not connected'));
    return Promise.resolve();
  }

  onStop({ signal }: HookContext): Promise<void> {
    this.#stopping ??= this.close(signal);
    return this.#stopping;
  }

  protected close(signal: AbortSignal): Promise<void> {
    const socket = this.socket;
    if (!socket || socket.destroyed) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const done = (): void => {
        socket.destroy();
        resolve();
      };
      socket.once('close', done);
      signal.addEventListener('abort', done, { once: true });
      socket.end();
    });
  }

  protected abandon(socket: Socket): void {
    socket.destroy();
  }

  protected greeting(socket: Socket, signal: AbortSignal): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const fail = (error: Error): void => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      };
      const onAbort = (): void => fail(new Error(`no greeting from ${this.target} before the deadline`));
      if (signal.aborted) return onAbort();
      signal.addEventListener('abort', onAbort, { once: true });
      socket.once('error', fail);
      socket.once('data', () => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      });
    });
  }
}

export const line = definePlugin({ type: 'line', critical: true, settings: lineSettings, create: (ctx) => new LinePlugin(ctx) });

/** Each breaks one rule of the contract, and only that one. */
export const broken = {
  'create-is-inert': definePlugin({
    type: 'line',
    critical: true,
    settings: lineSettings,
    create: (ctx) => {
      const plugin = new LinePlugin(ctx);
      setTimeout(() => undefined, 10).unref();
      return plugin;
    },
  }),
  'prestart-honours-deadline': definePlugin({
    type: 'line',
    critical: true,
    settings: lineSettings,
    create: (ctx): LinePlugin =>
      new (class extends LinePlugin {
        protected override greeting(socket: Socket): Promise<void> {
          // Its own 1.5 s timeout instead of the signal.
          return new Promise((resolve, reject) => {
            socket.once('data', () => resolve());
            setTimeout(() => reject(new Error('no greeting')), 1500).unref();
          });
        }
      })(ctx),
  }),
  'prestart-failure-leaks-nothing': definePlugin({
    type: 'line',
    critical: true,
    settings: lineSettings,
    create: (ctx): LinePlugin =>
      new (class extends LinePlugin {
        protected override abandon(): void {
          // forgets the socket
        }
      })(ctx),
  }),
  'onstop-idempotent-bounded': definePlugin({
    type: 'line',
    critical: true,
    settings: lineSettings,
    create: (ctx): LinePlugin =>
      new (class extends LinePlugin {
        #stopped = false;
        override onStop({ signal }: HookContext): Promise<void> {
          if (this.#stopped) return Promise.reject(new Error('already stopped'));
          this.#stopped = true;
          return this.close(signal);
        }
      })(ctx),
  }),
  'health-honours-signal': definePlugin({
    type: 'line',
    critical: true,
    settings: lineSettings,
    create: (ctx): LinePlugin =>
      new (class extends LinePlugin {
        override async healthCheck(): Promise<void> {
          await new Promise((resolve) => setTimeout(resolve, 300));
        }
      })(ctx),
  }),
  'instances-isolated': definePlugin({
    type: 'line',
    critical: true,
    settings: lineSettings,
    create: (ctx): LinePlugin => new SharedLinePlugin(ctx),
  }),
  'env-names': definePlugin({
    type: 'line',
    critical: true,
    settings: lineSettings,
    create: (ctx) => new LinePlugin({ ...ctx, settings: { ...ctx.settings, url: process.env['LINE_URL'] ?? ctx.settings.url } }),
  }),
  'secrets-hidden': definePlugin({
    type: 'line',
    critical: true,
    settings: lineSettings,
    create: (ctx): LinePlugin =>
      new (class extends LinePlugin {
        override preStart(hook: HookContext): Promise<void> {
          this.ctx.logger.info(`connecting with token ${this.ctx.settings.token ?? ''}`);
          return super.preStart(hook);
        }
      })(ctx),
  }),
  'target-without-password': definePlugin({
    type: 'line',
    critical: true,
    settings: lineSettings,
    create: (ctx): LinePlugin =>
      new (class extends LinePlugin {
        override get target(): string {
          return this.ctx.settings.url;
        }
      })(ctx),
  }),
  'nonretryable-only-when-permanent': definePlugin({
    type: 'line',
    critical: true,
    settings: lineSettings,
    create: (ctx): LinePlugin =>
      new (class extends LinePlugin {
        override async preStart(hook: HookContext): Promise<void> {
          try {
            await super.preStart(hook);
          } catch (error) {
            throw new NonRetryableError('the line server did not greet us', { cause: error });
          }
        }
      })(ctx),
  }),
} as const;

/** All instances share one module-level connection: stopping one breaks the other. */
let shared: Socket | undefined;
class SharedLinePlugin extends LinePlugin {
  override async preStart(hook: HookContext): Promise<void> {
    if (shared && !shared.destroyed) {
      this.socket = shared;
      return;
    }
    await super.preStart(hook);
    shared = this.socket;
  }
}
