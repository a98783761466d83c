import { isLazyToken, type LazyToken } from '../tokens.js';

/**
 * What each class declared about its constructor parameters. Kept by plinth itself
 * (not read back from inversify) so the graph can be validated before anything is built,
 * and without relying on `design:paramtypes`, which esbuild, tsx and Vitest do not emit.
 */
export type InjectionPoint =
  | { readonly kind: 'plugin'; readonly index: number; readonly prefix: string }
  | { readonly kind: 'token'; readonly index: number; readonly token: InjectionToken | LazyToken };

/** Anything that can be injected: a service class or a symbol/string token. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a constructor of any shape
export type InjectionToken = symbol | string | (abstract new (...args: any[]) => unknown);

export interface ServiceOptions {
  /** Deadline of this service's preStart, in ms. */
  readonly startTimeout?: number;
  /** Deadline of this service's onStart, in ms. */
  readonly onStartTimeout?: number;
  /** Deadline of this service's onStop, in ms. */
  readonly stopTimeout?: number;
}

const injectionPoints = new WeakMap<object, InjectionPoint[]>();
const serviceOptions = new WeakMap<object, ServiceOptions>();

export function recordInjectionPoint(target: object, point: InjectionPoint): void {
  const points = injectionPoints.get(target) ?? [];
  points.push(point);
  injectionPoints.set(target, points);
}

export function injectionPointsOf(target: object): readonly InjectionPoint[] {
  return [...(injectionPoints.get(target) ?? [])].sort((a, b) => a.index - b.index);
}

export function markService(target: object, options: ServiceOptions): void {
  serviceOptions.set(target, options);
}

export function serviceOptionsOf(target: object): ServiceOptions | undefined {
  return serviceOptions.get(target);
}

export function describeToken(token: InjectionToken | LazyToken): string {
  if (isLazyToken(token)) return 'lazy(() => …)';
  if (typeof token === 'function') return token.name || '<anonymous class>';
  return String(token);
}
