import { performance } from 'node:perf_hooks';
import { describeComponent, type LifecycleComponent } from '../lifecycle/component.js';
import { withDeadline } from '../lifecycle/deadline.js';
import { messageOf } from '../message-of.js';
import type { CheckResult } from './health-report.js';

/** Components that report health: those with a `healthCheck` hook, and every plugin (through its availability, or as disabled). */
export function hasHealth(component: LifecycleComponent): boolean {
  return component.instance.healthCheck !== undefined || component.availability !== undefined || component.disabled;
}

/**
 * Runs one component's check. A plugin that has marked itself unavailable is down without
 * being asked. The check gets a signal that aborts at its timeout, and a check that ignores
 * the signal is reported down at the timeout all the same: a probe never hangs on it.
 */
export async function runHealthCheck(component: LifecycleComponent): Promise<CheckResult> {
  const started = performance.now();
  const result = (error?: unknown): CheckResult => ({
    status: error === undefined ? 'up' : 'down',
    critical: component.critical,
    latencyMs: Math.round((performance.now() - started) * 10) / 10,
    ...(component.embedded ? { embedded: true } : {}),
    ...(error === undefined ? {} : { error: component.redact(messageOf(error)) }),
  });
  if (component.disabled) return { status: 'disabled', critical: false, latencyMs: 0 };
  const { availability, instance } = component;
  if (availability && !availability.available) return result(`unavailable: ${availability.reason ?? 'unknown reason'}`);
  if (!instance.healthCheck) return result();
  try {
    await withDeadline((signal) => instance.healthCheck?.({ signal }), {
      timeoutMs: component.timeouts.health,
      component: describeComponent(component),
      phase: 'healthCheck',
    });
    return result();
  } catch (error) {
    return result(error ?? 'check failed');
  }
}
