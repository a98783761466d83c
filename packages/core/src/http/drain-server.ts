import type { Server as HttpServer } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { ConnectionTracker } from './connection-tracker.js';
import { stopListening } from './stop-listening.js';

export interface DrainOptions {
  /** How long in-flight requests may take; then their connections are destroyed. */
  readonly timeoutMs: number;
  /** How long an idle keep-alive connection stays open for a request already on its way. */
  readonly idleGraceMs: number;
}

export interface DrainReport {
  readonly durationMs: number;
  /** The deadline passed and connections were destroyed. */
  readonly forced: boolean;
  /** Connections destroyed at the deadline. */
  readonly destroyed: number;
}

/**
 * Stops the server accepting connections, lets in-flight requests finish, closes every
 * keep-alive connection after a `Connection: close` response or an idle grace, and
 * resolves once all the tracked HTTP connections are closed. Past `timeoutMs` whatever is
 * left is destroyed. Upgraded connections (WebSockets) are not HTTP any more: closing them
 * is their owner's business (in its onStop).
 */
export async function drainHttpServer(server: HttpServer, tracker: ConnectionTracker, options: DrainOptions): Promise<DrainReport> {
  const started = performance.now();
  stopListening(server);
  tracker.beginDrain(options.idleGraceMs);
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<'deadline'>((resolve) => {
    timer = setTimeout(() => resolve('deadline'), options.timeoutMs);
  });
  const outcome = await Promise.race([tracker.whenEmpty().then(() => 'closed' as const), deadline]);
  clearTimeout(timer);
  let destroyed = 0;
  if (outcome === 'deadline') {
    destroyed = tracker.destroyAll();
    // HTTP connections made before the tracker existed are known to Node only.
    server.closeAllConnections();
  }
  return { durationMs: Math.round(performance.now() - started), forced: outcome === 'deadline', destroyed };
}
