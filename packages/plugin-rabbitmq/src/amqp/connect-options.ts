import type { Options, SocketOptions } from 'amqplib';

/** The resolved settings a connection needs. */
export interface ConnectionSettings {
  readonly url: string | undefined;
  readonly host: string | undefined;
  readonly port: number | undefined;
  readonly user: string;
  readonly password: string | undefined;
  readonly vhost: string;
  readonly tls: boolean;
  /** ms; sent to the broker in whole seconds. */
  readonly heartbeat: number;
  readonly connectTimeout: number;
}

export interface ConnectionTarget {
  readonly options: Options.Connect;
  readonly socket: SocketOptions;
  /** `host:port`, for logs and errors: never a password. */
  readonly address: string;
}

/**
 * amqplib options from the settings. URL wins for host, port, credentials and vhost;
 * HEARTBEAT, TLS and CONNECT_TIMEOUT apply either way. Every field is passed explicitly,
 * so nothing falls back to amqplib's own defaults by accident.
 */
export function connectionTarget(settings: ConnectionSettings, connectionName: string): ConnectionTarget {
  let protocol = settings.tls ? 'amqps' : 'amqp';
  let hostname = settings.host ?? 'localhost';
  let port = settings.port;
  let username = settings.user;
  let password = settings.password ?? 'guest';
  let vhost = settings.vhost;
  if (settings.url) {
    const url = new URL(settings.url);
    if (url.protocol === 'amqps:') protocol = 'amqps';
    hostname = url.hostname.replace(/^\[(.*)\]$/, '$1');
    port = url.port ? Number(url.port) : settings.port;
    if (url.username || url.password) {
      username = decodeURIComponent(url.username);
      password = decodeURIComponent(url.password);
    }
    if (url.pathname.length > 1) vhost = decodeURIComponent(url.pathname.slice(1));
  }
  const resolvedPort = port ?? (protocol === 'amqps' ? 5671 : 5672);
  const heartbeatSeconds = settings.heartbeat === 0 ? 0 : Math.max(1, Math.round(settings.heartbeat / 1000));
  return {
    options: {
      protocol,
      hostname,
      port: resolvedPort,
      username,
      password,
      // amqplib unescapes the vhost it is given; escape it so names with `%` survive.
      vhost: encodeURIComponent(vhost),
      heartbeat: heartbeatSeconds,
      locale: 'en_US',
    },
    socket: {
      timeout: settings.connectTimeout,
      noDelay: true,
      clientProperties: { connection_name: connectionName },
    },
    address: `${hostname.includes(':') ? `[${hostname}]` : hostname}:${resolvedPort}`,
  };
}
