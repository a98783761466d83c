import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

export interface UpstreamServer {
  readonly url: string;
  /** Requests received, as `METHOD /path`. */
  readonly received: string[];
  /** Answers the next requests with these statuses, in order; then 200. */
  fail(...statuses: number[]): void;
  close(): Promise<void>;
}

/** A real HTTP server standing in for the upstream: JSON answers, scripted failures. */
export async function startUpstream(handle?: (req: IncomingMessage, res: ServerResponse) => void): Promise<UpstreamServer> {
  const received: string[] = [];
  const failures: number[] = [];
  const server: Server = createServer((req, res) => {
    received.push(`${req.method} ${req.url}`);
    const status = failures.shift();
    if (status !== undefined) {
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify({ error: status }));
      return;
    }
    if (handle) return handle(req, res);
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ path: req.url, auth: req.headers.authorization ?? null }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}/v1`,
    received,
    fail: (...statuses) => void failures.push(...statuses),
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
