import net from 'node:net';

/** The shared servers integration tests talk to. */
export type ServiceName = 'postgres' | 'redis' | 'rabbitmq';

/** Connection URLs for the shared test servers. */
export interface TestServices {
  /** Admin URL used to create scratch databases (`TEST_POSTGRES_URL`). */
  readonly postgres: string;
  /** Redis URL, DB 0 (`TEST_REDIS_URL`). */
  readonly redis: string;
  /** AMQP URL of the RabbitMQ broker (`TEST_AMQP_URL`). */
  readonly amqp: string;
}

const DEFAULTS: TestServices = {
  postgres: 'postgres://postgres@127.0.0.1:5432/test',
  redis: 'redis://127.0.0.1:6379',
  amqp: 'amqp://guest:guest@127.0.0.1:5672',
};

interface ServiceInfo {
  readonly label: string;
  readonly envVar: string;
  readonly url: (s: TestServices) => string;
  readonly defaultPort: number;
  readonly howToStart: string;
}

const INFO: Record<ServiceName, ServiceInfo> = {
  postgres: {
    label: 'PostgreSQL',
    envVar: 'TEST_POSTGRES_URL',
    url: (s) => s.postgres,
    defaultPort: 5432,
    howToStart: 'pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start',
  },
  redis: {
    label: 'Redis',
    envVar: 'TEST_REDIS_URL',
    url: (s) => s.redis,
    defaultPort: 6379,
    howToStart:
      'redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log',
  },
  rabbitmq: {
    label: 'RabbitMQ',
    envVar: 'TEST_AMQP_URL',
    url: (s) => s.amqp,
    defaultPort: 5672,
    howToStart: 'rabbitmq-server -detached',
  },
};

/**
 * Server addresses for integration tests: env vars when set, local defaults otherwise.
 * Read on every call so a test can override the env before asking.
 */
export function testServices(env: NodeJS.ProcessEnv = process.env): TestServices {
  // Empty strings count as unset: CI templates often export `VAR=`.
  const pick = (value: string | undefined, fallback: string): string => (value ? value : fallback);
  return {
    postgres: pick(env.TEST_POSTGRES_URL, DEFAULTS.postgres),
    redis: pick(env.TEST_REDIS_URL, DEFAULTS.redis),
    amqp: pick(env.TEST_AMQP_URL, DEFAULTS.amqp),
  };
}

/** Host and port a service URL points at (URL brackets around IPv6 removed). */
export function serviceAddress(name: ServiceName, services: TestServices = testServices()): { host: string; port: number } {
  const info = INFO[name];
  const url = new URL(info.url(services));
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1') || '127.0.0.1';
  const port = url.port ? Number(url.port) : info.defaultPort;
  return { host, port };
}

/**
 * Fails fast, with instructions, when a shared server is not reachable.
 * Tests call this instead of skipping: a missing server is a broken environment,
 * not a reason to report green. Resolves with the service URL.
 */
export async function requireService(name: ServiceName, options: { timeoutMs?: number } = {}): Promise<string> {
  const info = INFO[name];
  const services = testServices();
  const { host, port } = serviceAddress(name, services);
  const timeoutMs = options.timeoutMs ?? 1000;
  const problem = await tcpProbe(host, port, timeoutMs);
  if (problem !== undefined) {
    // The address, not the URL: URLs may carry passwords.
    throw new Error(
      `${info.label} is not reachable at ${host}:${port} (${problem}). ` +
        `Integration tests need it and do not skip. Start it with:\n  ${info.howToStart}\n` +
        `or point ${info.envVar} at a running server.`,
    );
  }
  return info.url(services);
}

/** Resolves undefined when a TCP connection succeeds, else a short reason. */
function tcpProbe(host: string, port: number, timeoutMs: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const finish = (reason: string | undefined): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(reason);
    };
    const timer = setTimeout(() => finish(`no TCP connection within ${timeoutMs} ms`), timeoutMs);
    socket.once('connect', () => finish(undefined));
    socket.once('error', (err: NodeJS.ErrnoException) => finish(err.code ?? err.message));
  });
}
