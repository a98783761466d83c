import net from 'node:net';

/** A TCP listener that accepts connections and never answers. */
export interface SilentListener {
  readonly host: string;
  readonly port: number;
  /** Connections accepted since start. */
  readonly connections: number;
  /** Connections currently open. */
  readonly openConnections: number;
  /** Destroys every accepted socket and stops listening. */
  close(): Promise<void>;
}

/**
 * Starts a listener that behaves like a server that accepts but never responds
 * (a wedged database): clients connect, write, and wait for their own timeouts.
 * Incoming bytes are read and discarded so the client never blocks on a full buffer.
 */
export async function startSilentListener(options: { host?: string; port?: number } = {}): Promise<SilentListener> {
  const host = options.host ?? '127.0.0.1';
  const sockets = new Set<net.Socket>();
  let accepted = 0;
  const server = net.createServer((socket) => {
    accepted++;
    sockets.add(socket);
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
    socket.resume();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port: options.port ?? 0 }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('startSilentListener: no TCP address');

  return {
    host,
    port: address.port,
    get connections() {
      return accepted;
    },
    get openConnections() {
      return sockets.size;
    },
    close() {
      return new Promise<void>((resolve) => {
        // server.close() alone would wait forever for the accepted sockets.
        for (const socket of sockets) socket.destroy();
        if (!server.listening) {
          resolve();
          return;
        }
        server.close(() => resolve());
      });
    },
  };
}
