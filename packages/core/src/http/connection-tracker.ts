import type { Server as HttpServer, IncomingMessage, ServerResponse } from 'node:http';
import { Server as HttpsServer } from 'node:https';
import type { Socket } from 'node:net';

interface Connection {
  readonly socket: Socket;
  /** Responses begun on this connection and not yet finished. */
  readonly responses: Set<ServerResponse>;
  idleTimer: NodeJS.Timeout | undefined;
}

/** How long a socket closed while idle gets to say goodbye before it is destroyed. */
const CLOSE_FALLBACK_MS = 1000;

/**
 * Knows, for every connection of a server, whether a response is in flight on it: what
 * draining needs in order to close keep-alive connections without cutting a request off.
 *
 * While draining, every response that has not sent its headers yet says
 * `Connection: close` (Node then closes the socket once it is written), and a connection
 * with nothing in flight is closed only after an idle grace: a client that reuses it
 * within the grace gets a complete `Connection: close` response instead of a reset.
 */
export class ConnectionTracker {
  readonly #connections = new Map<Socket, Connection>();
  #idleGraceMs: number | undefined;
  #closedWhileDraining = 0;
  #emptyWaiters: (() => void)[] = [];

  constructor(server: HttpServer) {
    const event = server instanceof HttpsServer ? 'secureConnection' : 'connection';
    server.on(event, (socket: Socket) => this.#track(socket));
  }

  /** Open connections. */
  get connections(): number {
    return this.#connections.size;
  }

  /** Responses begun and not yet finished. */
  get inFlight(): number {
    let count = 0;
    for (const connection of this.#connections.values()) count += connection.responses.size;
    return count;
  }

  /** Connections that closed once draining had begun. */
  get closedWhileDraining(): number {
    return this.#closedWhileDraining;
  }

  get draining(): boolean {
    return this.#idleGraceMs !== undefined;
  }

  /** Call for every request before any handler sees it. */
  onRequest(req: IncomingMessage, res: ServerResponse): void {
    const connection = this.#connections.get(req.socket) ?? this.#track(req.socket);
    clearTimeout(connection.idleTimer);
    connection.idleTimer = undefined;
    connection.responses.add(res);
    if (this.draining) closeConnectionAfter(res);
    const done = (): void => {
      if (connection.responses.delete(res)) this.#settle(connection);
    };
    res.once('finish', done);
    res.once('close', done);
  }

  /** From now on connections close after their current (or next) response, or once idle for `idleGraceMs`. */
  beginDrain(idleGraceMs: number): void {
    if (this.draining) return;
    this.#idleGraceMs = idleGraceMs;
    for (const connection of this.#connections.values()) {
      for (const res of connection.responses) closeConnectionAfter(res);
      this.#settle(connection);
    }
  }

  /** Resolves once no connection is open. */
  whenEmpty(): Promise<void> {
    if (this.#connections.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.#emptyWaiters.push(resolve));
  }

  /** Stops tracking a socket that left HTTP (an `upgrade` to WebSocket, a `CONNECT` tunnel). */
  forget(socket: Socket): void {
    const connection = this.#connections.get(socket);
    if (!connection) return;
    clearTimeout(connection.idleTimer);
    this.#connections.delete(socket);
    this.#notifyIfEmpty();
  }

  /** Destroys every connection at once (past the drain deadline); returns how many there were. */
  destroyAll(): number {
    const count = this.#connections.size;
    for (const connection of this.#connections.values()) connection.socket.destroy();
    return count;
  }

  #track(socket: Socket): Connection {
    const connection: Connection = { socket, responses: new Set(), idleTimer: undefined };
    this.#connections.set(socket, connection);
    socket.once('close', () => {
      clearTimeout(connection.idleTimer);
      if (this.#connections.get(socket) !== connection) return; // forgotten (upgraded)
      this.#connections.delete(socket);
      if (this.draining) this.#closedWhileDraining += 1;
      this.#notifyIfEmpty();
    });
    if (this.draining) this.#settle(connection);
    return connection;
  }

  #notifyIfEmpty(): void {
    if (this.#connections.size > 0) return;
    const waiters = this.#emptyWaiters;
    this.#emptyWaiters = [];
    for (const resolve of waiters) resolve();
  }

  /** While draining, a connection with nothing in flight gets its idle grace, then is closed. */
  #settle(connection: Connection): void {
    const grace = this.#idleGraceMs;
    if (grace === undefined || connection.responses.size > 0 || connection.idleTimer || connection.socket.destroyed) return;
    connection.idleTimer = setTimeout(() => closeIdleSocket(connection.socket), grace);
  }
}

/** Makes the response say `Connection: close`, so Node ends the socket once it is written. */
function closeConnectionAfter(res: ServerResponse): void {
  if (res.headersSent) return;
  res.shouldKeepAlive = false;
  res.setHeader('connection', 'close');
}

function closeIdleSocket(socket: Socket): void {
  socket.end();
  setTimeout(() => socket.destroy(), CLOSE_FALLBACK_MS).unref();
}
