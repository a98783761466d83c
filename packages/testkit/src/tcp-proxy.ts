import net from 'node:net';
import { performance } from 'node:perf_hooks';

/** Options for {@link startTcpProxy}. */
export interface TcpProxyOptions {
  /** Where connections are forwarded. */
  readonly targetHost: string;
  readonly targetPort: number;
  /** Listen address. Default 127.0.0.1. */
  readonly host?: string;
  /** Listen port. Default: a free port. */
  readonly port?: number;
}

/** What the proxy currently does with traffic. */
export type TcpProxyMode = 'forward' | 'cut' | 'hang' | 'delay';

/** A TCP proxy in front of a real server that can simulate its failures. */
export interface TcpProxy {
  readonly host: string;
  readonly port: number;
  readonly mode: TcpProxyMode;
  /** Client connections currently open through the proxy. */
  readonly activeConnections: number;
  /** Client connections accepted since start. */
  readonly totalConnections: number;
  /**
   * The dependency goes down: every open connection is closed on both sides and
   * the proxy stops listening, so new connections are refused (ECONNREFUSED)
   * until {@link restore}. `{ reset: true }` closes with RST instead of FIN.
   */
  cut(options?: { reset?: boolean }): Promise<void>;
  /**
   * The dependency hangs: connections stay open but no byte moves in either
   * direction; new connections are accepted and stay silent too.
   */
  hang(): void;
  /**
   * The dependency is slow: every chunk, in both directions and on open and new
   * connections alike, is forwarded `ms` later (in order). {@link restore} ends it.
   */
  delay(ms: number): void;
  /**
   * Back to normal: listens again after a cut; after a hang, the held
   * connections resume (like a healed network partition: bytes queued in the
   * kernel are delivered) and new connections forward.
   */
  restore(): Promise<void>;
  /** Closes the listener and every connection. */
  close(): Promise<void>;
}

/** One client connection and its upstream twin. */
class Pair {
  held = false;
  constructor(
    readonly client: net.Socket,
    readonly upstream: net.Socket,
  ) {}

  hold(): void {
    this.held = true;
    this.client.pause();
    this.upstream.pause();
  }

  release(): void {
    this.held = false;
    this.client.resume();
    this.upstream.resume();
  }

  destroy(reset: boolean): void {
    for (const socket of [this.client, this.upstream]) {
      // resetAndDestroy needs a connected socket; destroy works in any state.
      if (reset && !socket.connecting && !socket.destroyed) socket.resetAndDestroy();
      else socket.destroy();
    }
  }
}

/**
 * Starts a TCP proxy to `targetHost:targetPort`. Point the code under test at
 * `proxy.host:proxy.port`, then cut, hang or restore the dependency mid-run.
 */
export async function startTcpProxy(options: TcpProxyOptions): Promise<TcpProxy> {
  const host = options.host ?? '127.0.0.1';
  const pairs = new Set<Pair>();
  let mode: TcpProxyMode = 'forward';
  let delayMs = 0;
  let total = 0;
  let closed = false;

  // Manual forwarding rather than pipe(): pipe() resumes a paused source on
  // 'drain', which would leak bytes through a hang.
  const forward = (pair: Pair, from: net.Socket, to: net.Socket): void => {
    // Delayed chunks wait in arrival order; after a restore, new ones queue behind them.
    const late: { readonly at: number; readonly chunk: Buffer }[] = [];
    let timer: NodeJS.Timeout | undefined;
    const pump = (): void => {
      timer = undefined;
      while (late.length > 0 && (late[0] as { at: number }).at <= performance.now() + 1) {
        const { chunk } = late.shift() as { chunk: Buffer };
        if (!to.destroyed) to.write(chunk);
      }
      if (late.length > 0) timer = setTimeout(pump, (late[0] as { at: number }).at - performance.now());
    };
    from.on('data', (chunk: Buffer) => {
      if (delayMs > 0 || late.length > 0) {
        late.push({ at: performance.now() + delayMs, chunk });
        timer ??= setTimeout(pump, delayMs);
      } else if (!to.write(chunk)) from.pause();
    });
    from.on('close', () => clearTimeout(timer));
    to.on('drain', () => {
      if (!pair.held) from.resume();
    });
    // Propagate half-close so protocols that signal with FIN keep working.
    from.on('end', () => to.end());
    from.on('close', () => {
      to.destroy();
      pairs.delete(pair);
    });
  };

  const onConnection = (client: net.Socket): void => {
    total++;
    client.on('error', () => {});
    if (mode === 'cut' || closed) {
      client.destroy();
      return;
    }
    const upstream = net.connect({ host: options.targetHost, port: options.targetPort, allowHalfOpen: true });
    upstream.on('error', () => {});
    const pair = new Pair(client, upstream);
    pairs.add(pair);
    if (mode === 'hang') pair.hold();
    forward(pair, client, upstream);
    forward(pair, upstream, client);
  };

  const server = net.createServer({ allowHalfOpen: true }, onConnection);
  const listen = (port: number): Promise<void> =>
    new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host, port }, () => {
        server.off('error', reject);
        resolve();
      });
    });

  await listen(options.port ?? 0);
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('startTcpProxy: no TCP address');
  const port = address.port;

  const stopListening = (): Promise<void> =>
    new Promise((resolve) => {
      if (!server.listening) {
        resolve();
        return;
      }
      // The callback waits for tracked connections, which we destroy just below.
      server.close(() => resolve());
    });

  return {
    host,
    port,
    get mode() {
      return mode;
    },
    get activeConnections() {
      return pairs.size;
    },
    get totalConnections() {
      return total;
    },
    async cut(cutOptions = {}) {
      mode = 'cut';
      const stopped = stopListening();
      for (const pair of pairs) pair.destroy(cutOptions.reset === true);
      pairs.clear();
      await stopped;
    },
    hang() {
      if (mode === 'cut') throw new Error('TcpProxy.hang(): restore() the cut proxy first');
      mode = 'hang';
      for (const pair of pairs) pair.hold();
    },
    delay(ms) {
      if (mode === 'cut') throw new Error('TcpProxy.delay(): restore() the cut proxy first');
      if (mode === 'hang') for (const pair of pairs) pair.release();
      mode = 'delay';
      delayMs = ms;
    },
    async restore() {
      if (closed) throw new Error('TcpProxy.restore(): proxy is closed');
      if (!server.listening) {
        // Same port, so clients configured with it reconnect. Another process
        // could have taken it meanwhile; then this rejects with EADDRINUSE.
        await listen(port);
      }
      mode = 'forward';
      delayMs = 0;
      for (const pair of pairs) if (pair.held) pair.release();
    },
    async close() {
      closed = true;
      const stopped = stopListening();
      for (const pair of pairs) pair.destroy(false);
      pairs.clear();
      await stopped;
    },
  };
}
