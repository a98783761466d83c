import type { Scope } from '@sentry/node';

type ScopeSetter = 'setTag' | 'setTags' | 'setExtra' | 'setExtras' | 'setContext' | 'setUser' | 'setLevel' | 'setFingerprint' | 'addBreadcrumb';

/**
 * What a service sets on a scope inside `withScope`: the SDK's own `Scope` while reporting
 * is on, one that keeps nothing while it is off (the SDK is not even loaded then).
 */
export type CaptureScope = { readonly [K in ScopeSetter]: (...args: Parameters<Scope[K]>) => void };

const ignore = (): void => undefined;

/** Handed to `withScope` callbacks while reporting is off. */
export const NOOP_SCOPE: CaptureScope = Object.freeze({
  setTag: ignore,
  setTags: ignore,
  setExtra: ignore,
  setExtras: ignore,
  setContext: ignore,
  setUser: ignore,
  setLevel: ignore,
  setFingerprint: ignore,
  addBreadcrumb: ignore,
});
