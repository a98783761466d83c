import net from 'node:net';
import { performance } from 'node:perf_hooks';

/**
 * Opens the sockets of a postgres.js client and remembers them, so a client can be shut
 * at once: when a stop runs out of time, or a health check gives up. postgres.js itself
 * can only force-close through a timer fixed when `end()` is first called.
 */
export class SocketTracker {
  readonly #sockets = new Set<net.Socket>();
  /** Per socket: since when it has sent bytes the server has not answered yet (performance.now()). */
  readonly #waitingSince = new WeakMap<net.Socket, number>();
  readonly #onEmpty = new Set<() => void>();
  #closedReason: Error | undefined;

  /** Open sockets right now (connected or connecting). */
  get size(): number {
    return this.#sockets.size;
  }

  /**
   * A postgres.js `socket` option. It returns a socket that is still connecting:
   * postgres.js queues its startup message until the connection is up, and its
   * `connect_timeout` covers the TCP connect as well as the handshake.
   */
  connector(host: string, port: number, options: { watchSilence?: boolean } = {}): () => net.Socket {
    return () => {
      // After destroyAll(), postgres.js may still reconnect a connection whose first query
      // was pending. Refuse the socket: postgres.js then rejects the query and stops
      // reconnecting. (Handing it a socket destroyed a moment later races its own write
      // timer, which then writes to a socket it has already dropped: a TypeError thrown
      // from a timer, which takes the process down.)
      if (this.#closedReason) throw this.#closedReason;
      const socket = host.startsWith('/')
        ? net.connect({ path: `${host}/.s.PGSQL.${port}` })
        : net.connect({ host, port });
      // postgres.js names the target in its errors from these fields.
      Object.assign(socket, { host, port });
      // postgres.js listens too; this one only guarantees an error never goes unheard.
      socket.on('error', () => {});
      // Over TLS the bytes bypass this socket's write() and 'data': nothing to watch.
      if (options.watchSilence) this.#watchSilence(socket);
      this.#sockets.add(socket);
      socket.once('close', () => {
        this.#sockets.delete(socket);
        this.#notifyIfEmpty();
      });
      return socket;
    };
  }

  /**
   * Resolves once no socket is open. Checked first after the current I/O turn, so a
   * query that was just sent has opened its socket by then.
   */
  whenAllClosed(): Promise<void> {
    return new Promise((resolve) => {
      setImmediate(() => {
        if (this.#sockets.size === 0) resolve();
        else this.#onEmpty.add(resolve);
      });
    });
  }

  /**
   * Destroys every socket now, and every socket opened from now on. Queries in flight
   * or waiting for their connection fail with `reason` (an error, not a quiet close: on a
   * quiet close postgres.js reconnects a connection that has a first query pending).
   */
  destroyAll(reason: string): void {
    const error = Object.assign(new Error(reason), { code: 'CONNECTION_DESTROYED' });
    this.#closedReason ??= error;
    for (const socket of this.#sockets) socket.destroy(error);
    this.#sockets.clear();
    this.#notifyIfEmpty();
  }

  /**
   * Destroys every socket that sent a query and has heard nothing back for `silentMs`:
   * a server that hangs, or a statement still running. Returns how many it destroyed.
   */
  destroySilent(silentMs: number, reason: string): number {
    const now = performance.now();
    const error = Object.assign(new Error(reason), { code: 'CONNECTION_DESTROYED' });
    let destroyed = 0;
    for (const socket of this.#sockets) {
      const since = this.#waitingSince.get(socket);
      if (since === undefined || now - since < silentMs) continue;
      socket.destroy(error);
      destroyed += 1;
    }
    return destroyed;
  }

  /** Writing starts a wait (unless one is running); any byte from the server ends it. */
  #watchSilence(socket: net.Socket): void {
    const write = socket.write;
    const waitingSince = this.#waitingSince;
    socket.write = function (this: net.Socket, ...args: unknown[]): boolean {
      if (!waitingSince.has(socket)) waitingSince.set(socket, performance.now());
      return Reflect.apply(write, this, args) as boolean;
    } as net.Socket['write'];
    socket.on('data', () => waitingSince.delete(socket));
  }

  #notifyIfEmpty(): void {
    if (this.#sockets.size > 0) return;
    for (const resolve of this.#onEmpty) resolve();
    this.#onEmpty.clear();
  }
}
