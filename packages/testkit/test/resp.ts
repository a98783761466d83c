// Tiny raw-socket Redis helper for the testkit's own tests: no client library
// in between, so what we observe is exactly what the proxy did.
import net from 'node:net';

export interface RawConnection {
  readonly socket: net.Socket;
  /** Everything received so far. */
  received(): string;
  /** Resolves with the text received after `send`, once it contains `\r\n`, or undefined after `waitMs`. */
  command(line: string, waitMs?: number): Promise<string | undefined>;
  /** Resolves once the socket is closed (with the error, if any). */
  readonly closed: Promise<Error | undefined>;
}

export function connectRaw(host: string, port: number): Promise<RawConnection> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port });
    let buffer = '';
    let lastError: Error | undefined;
    const waiters = new Set<() => void>();
    socket.on('data', (chunk: Buffer) => {
      buffer += chunk.toString('latin1');
      for (const w of [...waiters]) w();
    });
    const closed = new Promise<Error | undefined>((res) => socket.on('close', () => res(lastError)));
    socket.on('error', (err) => {
      lastError = err;
    });
    socket.once('connect', () => {
      socket.off('error', reject);
      resolve({
        socket,
        received: () => buffer,
        closed,
        command(line, waitMs = 2000) {
          const start = buffer.length;
          socket.write(`${line}\r\n`);
          return new Promise((res) => {
            const check = (): void => {
              const reply = buffer.slice(start);
              if (reply.includes('\r\n')) {
                clearTimeout(timer);
                waiters.delete(check);
                res(reply);
              }
            };
            const timer = setTimeout(() => {
              waiters.delete(check);
              res(undefined);
            }, waitMs);
            waiters.add(check);
            check();
          });
        },
      });
    });
    socket.once('error', reject);
  });
}

/** Resolves with the connect error code, or 'connected' if the connection succeeded. */
export function tryConnect(host: string, port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    socket.once('connect', () => {
      socket.destroy();
      resolve('connected');
    });
    socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
  });
}
