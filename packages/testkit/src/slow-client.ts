import net from 'node:net';
import { performance } from 'node:perf_hooks';

export interface SlowBodyOptions {
  readonly host: string;
  readonly port: number;
  readonly path?: string;
  /** The body length announced in `Content-Length`; only a byte per `intervalMs` is sent. */
  readonly contentLength?: number;
  readonly intervalMs?: number;
  /** Give up (and report `cut: false`) after this long. */
  readonly giveUpAfterMs?: number;
}

export interface SlowBodyResult {
  /** The server answered or closed before the client gave up. */
  readonly cut: boolean;
  /** The status line's code, if the server answered before closing. */
  readonly status: number | undefined;
  /** From the end of the headers to the cut (or to giving up). */
  readonly afterMs: number;
  readonly bytesSent: number;
}

/**
 * A slow-loris body: complete headers, then one byte of body per interval, never the
 * whole body. Reports when the server cut it off (a 408, or a closed connection).
 */
export function sendSlowBody(options: SlowBodyOptions): Promise<SlowBodyResult> {
  const { host, port, path = '/', contentLength = 1000, intervalMs = 1000, giveUpAfterMs = 30_000 } = options;
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    let started = 0;
    let bytesSent = 0;
    let response = '';
    let timer: NodeJS.Timeout | undefined;
    let done = false;
    const finish = (cut: boolean): void => {
      if (done) return;
      done = true;
      clearInterval(timer);
      clearTimeout(giveUp);
      socket.destroy();
      const match = /^HTTP\/1\.[01] (\d{3})/.exec(response);
      resolve({ cut, status: match ? Number(match[1]) : undefined, afterMs: Math.round(performance.now() - started), bytesSent });
    };
    const giveUp = setTimeout(() => finish(false), giveUpAfterMs);
    socket.on('error', () => finish(true));
    socket.on('data', (chunk: Buffer) => (response += chunk.toString('latin1')));
    socket.on('close', () => finish(true));
    socket.on('connect', () => {
      socket.write(`POST ${path} HTTP/1.1\r\nHost: ${host}\r\nContent-Type: application/json\r\nContent-Length: ${contentLength}\r\n\r\n`);
      started = performance.now();
      timer = setInterval(() => {
        if (bytesSent >= contentLength - 1) return;
        socket.write(' ');
        bytesSent += 1;
      }, intervalMs);
    });
  });
}
