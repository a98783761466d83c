import type { Server as HttpServer } from 'node:http';

/**
 * Closes the listener (no new connections) and returns at once, WITHOUT the
 * `closeIdleConnections()` that `http.Server.close()` performs since Node 19: that call
 * destroys idle keep-alive sockets at once, and a client that is just reusing one gets
 * ECONNRESET. Open connections are the drain's business (see ConnectionTracker).
 */
export function stopListening(server: HttpServer): void {
  if (!server.listening) return;
  const own = Object.hasOwn(server, 'closeIdleConnections');
  const original = server.closeIdleConnections;
  server.closeIdleConnections = () => undefined;
  try {
    // The callback waits for every connection, upgraded ones (WebSockets) included; the
    // drain waits for the HTTP connections it tracks instead.
    server.close(() => undefined);
  } finally {
    if (own) server.closeIdleConnections = original;
    else Reflect.deleteProperty(server, 'closeIdleConnections');
  }
}
