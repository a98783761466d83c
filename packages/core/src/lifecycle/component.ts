import type { PluginAvailability } from '../plugin/plugin-availability.js';
import type { HealthCheck, OnStart, OnStop, PreStart } from './hooks.js';

export interface HookTimeouts {
  readonly preStart: number;
  readonly onStart: number;
  readonly onStop: number;
  readonly health: number;
}

export const DEFAULT_TIMEOUTS: HookTimeouts = { preStart: 30_000, onStart: 10_000, onStop: 10_000, health: 1_000 };

/** A plugin instance or service as the orchestrator drives it. */
export interface LifecycleComponent {
  readonly id: string;
  readonly kind: 'plugin' | 'service';
  readonly pluginType: string | undefined;
  readonly critical: boolean;
  readonly dependsOn: readonly string[];
  readonly instance: Partial<PreStart & OnStart & OnStop & HealthCheck>;
  readonly timeouts: HookTimeouts;
  readonly availability: PluginAvailability | undefined;
  /** Critical plugins retry preStart with backoff until the deadline. */
  readonly retryPreStart: boolean;
  /** A plugin running its embedded fallback (named in the startup summary and /health). */
  readonly embedded: boolean;
  /** An optional plugin turned off: it runs its no-op implementation and `/health` lists it as `disabled`. */
  readonly disabled: boolean;
  readonly redact: (text: string) => string;
}

/**
 * `postgres plugin "primary_db" (127.0.0.1:5432/app)`: a plugin instance that exposes a
 * `target` string (where it connects) is named with it, so every startup error says where,
 * even when the deadline cut the first attempt before any error arrived.
 */
export function describeComponent(component: LifecycleComponent): string {
  if (component.kind === 'service') return `service ${component.id}`;
  const target = targetOf(component.instance);
  return `${component.pluginType} plugin "${component.id}"${target ? ` (${component.redact(target)})` : ''}`;
}

function targetOf(instance: object): string | undefined {
  try {
    const target: unknown = (instance as { target?: unknown }).target;
    return typeof target === 'string' && target !== '' ? target : undefined;
  } catch {
    return undefined; // a getter that throws must not hide the real error
  }
}
