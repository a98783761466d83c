import { createServer, type Socket } from 'node:net';

/** A TCP server that accepts connections and never answers: a dependency that hangs. */
export class SilentServer {
  readonly #server = createServer((socket) => this.#accept(socket));
  readonly #sockets = new Set<Socket>();

  /** Sockets this server holds open: its own, not the plugin's. */
  get openSockets(): number {
    return this.#sockets.size;
  }

  async listen(): Promise<{ host: string; port: number }> {
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(0, '127.0.0.1', resolve);
    });
    const address = this.#server.address();
    if (address === null || typeof address === 'string') throw new Error('silent server has no TCP address');
    return { host: '127.0.0.1', port: address.port };
  }

  async close(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #accept(socket: Socket): void {
    this.#sockets.add(socket);
    // Read and drop what arrives: a paused socket would never see the plugin's FIN.
    socket.resume();
    socket.on('error', () => socket.destroy());
    socket.on('end', () => socket.destroy());
    socket.on('close', () => this.#sockets.delete(socket));
  }
}
