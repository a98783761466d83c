import http from 'node:http';
import https from 'node:https';
import type { UpstreamResponse } from './fake.js';

/**
 * One HTTP exchange on a keep-alive agent the plugin owns, so onStop can close every
 * socket it opened. The body is JSON when the upstream says so, text otherwise.
 */
export class Transport {
  readonly #agent: http.Agent;
  readonly #base: URL;

  constructor(base: string) {
    this.#base = new URL(base.endsWith('/') ? base : `${base}/`);
    const Agent = this.#base.protocol === 'https:' ? https.Agent : http.Agent;
    this.#agent = new Agent({ keepAlive: true });
  }

  send(method: string, path: string, body: unknown, headers: Record<string, string>, signal: AbortSignal): Promise<UpstreamResponse> {
    const url = new URL(path.replace(/^\//, ''), this.#base);
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const request = (url.protocol === 'https:' ? https : http).request;
    return new Promise((resolve, reject) => {
      const req = request(
        url,
        {
          method,
          agent: this.#agent,
          signal,
          headers: { accept: 'application/json', ...(payload ? { 'content-type': 'application/json' } : {}), ...headers },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('error', reject);
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            const json = /json/.test(res.headers['content-type'] ?? '');
            try {
              resolve({ status: res.statusCode ?? 0, body: json && text ? JSON.parse(text) : text });
            } catch (error) {
              reject(error instanceof Error ? error : new Error(String(error)));
            }
          });
        },
      );
      req.on('error', reject);
      req.end(payload);
    });
  }

  /** Closes every socket, idle or busy. */
  close(): void {
    this.#agent.destroy();
  }
}
