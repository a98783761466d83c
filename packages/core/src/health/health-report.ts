import type { AppState } from '../lifecycle/events.js';

/** The outcome of one check of one component. */
export interface CheckResult {
  /** `disabled`: an optional plugin turned off, which counts neither way. */
  readonly status: 'up' | 'down' | 'disabled';
  /** A critical check that is down makes the app not ready. */
  readonly critical: boolean;
  readonly latencyMs: number;
  /** Why it is down, redacted; shown to callers only when details are unlocked. */
  readonly error?: string;
  /** Present on a plugin running its embedded fallback. */
  readonly embedded?: true;
}

export type CheckResults = Readonly<Record<string, CheckResult>>;

/**
 * What the probes report:
 * `ok` and `degraded` (a non-critical check is down) are ready;
 * `starting`, `down` (a critical check is down), `draining`, `stopped` and `failed` are not.
 */
export type HealthStatus = 'starting' | 'ok' | 'degraded' | 'down' | 'draining' | 'stopped' | 'failed';

/** The aggregate answer of `GET /health` (and the body of `/health/ready`). */
export interface HealthReport {
  readonly status: HealthStatus;
  readonly state: AppState;
  readonly checks: CheckResults;
}

/** A probe's answer before it becomes HTTP: 200 when `ok`, else 503. */
export interface ProbeAnswer {
  readonly ok: boolean;
  readonly body: Readonly<Record<string, unknown>>;
}

/** Readiness: ready when started, not shutting down, and every critical check is up. */
export function isReady(status: HealthStatus): boolean {
  return status === 'ok' || status === 'degraded';
}

/** Combines the app state with check results (which count only while the app is serving). */
export function healthStatus(state: AppState, checks: CheckResults): HealthStatus {
  switch (state) {
    case 'created':
    case 'starting':
      return 'starting';
    case 'draining':
    case 'stopped':
    case 'failed':
      return state;
    case 'ready':
    case 'degraded': {
      const down = Object.values(checks).filter((c) => c.status === 'down');
      if (down.some((c) => c.critical)) return 'down';
      return down.length > 0 || state === 'degraded' ? 'degraded' : 'ok';
    }
  }
}
