import { createApp, type App, type PluginDeclaration } from '@plinth/core';
import { LogCapture } from '../log-capture.js';
import { ResourceRecorder } from './resources.js';

/** What the conformance suite is given: a plugin factory, called with a prefix only. */
export type PluginUnderTest = (prefix: string) => PluginDeclaration;

/** Hooks a plugin instance may implement; the suite calls them directly. */
export interface PluginHooks {
  preStart?(ctx: { signal: AbortSignal; appSignal: AbortSignal; attempt: number }): Promise<void> | void;
  onStart?(ctx: { signal: AbortSignal; appSignal: AbortSignal; attempt: number }): Promise<void> | void;
  onStop?(ctx: { signal: AbortSignal; appSignal: AbortSignal; attempt: number }): Promise<void> | void;
  healthCheck?(ctx: { signal: AbortSignal }): Promise<void> | void;
  readonly target?: unknown;
}

/** One instance built by a real app, whose hooks the suite then drives itself. */
export interface BuiltInstance {
  readonly app: App;
  readonly instance: PluginHooks;
  readonly logs: LogCapture;
  /** Watched resources created while `create` ran and until the next macrotask. */
  readonly createdDuringCreate: readonly string[];
  /** Env names the plugin read from `process.env` during `create`. */
  readonly envReads: readonly string[];
  /** What the lifecycle does: preStart, then mark available (as core does), then onStart. */
  start(signal: AbortSignal): Promise<void>;
}

export const CONFORMANCE_APP = 'conformance';

const BUILT_ONLY = new Error('built only: the conformance suite drives the hooks itself');

/**
 * Builds one instance through `createApp` (so its context, settings and redaction are the
 * real ones) and stops the app right after `create`, before any hook runs.
 */
export async function buildInstance(
  plugin: PluginUnderTest,
  prefix: string,
  settings: Readonly<Record<string, unknown>>,
): Promise<BuiltInstance> {
  const declared = plugin(prefix);
  const logs = new LogCapture();
  const recorder = new ResourceRecorder();
  const envReads: string[] = [];
  let instance: PluginHooks | undefined;
  let availability: { markAvailable(): void } | undefined;
  const wrapped: PluginDeclaration = {
    ...declared,
    common: { ...declared.common, settings: { ...declared.common.settings, ...settings } },
    instantiate: (ctx) => {
      const realEnv = process.env;
      process.env = new Proxy(realEnv, {
        get: (target, name) => {
          if (typeof name === 'string') envReads.push(name);
          return Reflect.get(target, name) as unknown;
        },
      });
      recorder.start();
      try {
        availability = ctx.availability;
        instance = declared.instantiate(ctx) as PluginHooks;
      } finally {
        process.env = realEnv;
      }
      throw BUILT_ONLY;
    },
  };
  const app = createApp({ name: CONFORMANCE_APP, plugins: [wrapped], env: {}, logDestination: logs });
  try {
    await app.start();
  } catch (error) {
    if (error !== BUILT_ONLY && (error as { cause?: unknown }).cause !== BUILT_ONLY) throw error;
  }
  // Work that create() scheduled for later (a connect in a promise) shows up by now.
  await new Promise((resolve) => setImmediate(resolve));
  recorder.stop();
  if (instance === undefined) throw new Error(`${declared.type} create() did not return an instance`);
  // The setImmediate above is the suite's own.
  const created = recorder.created.slice();
  created.splice(created.lastIndexOf('Immediate'), 1);
  const built = instance;
  const start = async (signal: AbortSignal): Promise<void> => {
    await built.preStart?.(hookContext(signal));
    availability?.markAvailable();
    await built.onStart?.(hookContext(signal));
  };
  return { app, instance, logs, createdDuringCreate: created, envReads, start };
}

/** The hook context the lifecycle would pass. */
export function hookContext(signal: AbortSignal): { signal: AbortSignal; appSignal: AbortSignal; attempt: number } {
  return { signal, appSignal: new AbortController().signal, attempt: 1 };
}
