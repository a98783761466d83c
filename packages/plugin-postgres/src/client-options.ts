import type net from 'node:net';
import postgres from 'postgres';
import type { PostgresSettings, ServerTarget } from './target.js';

/** postgres.js options its type definitions leave out. */
interface ClientOptions extends Omit<postgres.Options<Record<string, postgres.PostgresType>>, 'max_lifetime'> {
  socket: () => net.Socket;
  /** Called per connection, so a pool's connections do not all recycle at once. */
  max_lifetime: () => number;
  sslnegotiation: null;
  max_pipeline: number;
}

export interface ClientOptionsInput {
  readonly target: ServerTarget;
  readonly settings: PostgresSettings;
  readonly applicationName: string;
  readonly max: number;
  readonly socket: () => net.Socket;
  readonly onnotice: (notice: postgres.Notice) => void;
  /** Called whenever a pool connection closes, for whatever reason. */
  readonly onclose?: () => void;
  /** statement_timeout of the session; 0 for none. */
  readonly statementTimeoutMs: number;
  /** Look up array types on connect (postgres.js default); the check connection skips it. */
  readonly fetchTypes?: boolean;
}

/** The library's default: 30 to 60 minutes, spread so connections do not recycle together. */
function maxLifetimeSeconds(): number {
  return 60 * (30 + Math.random() * 30);
}

/** The library's default reconnect backoff, in seconds. */
function backoffSeconds(retries: number): number {
  return (0.5 + Math.random() / 2) * Math.min(3 ** retries / 100, 20);
}

/**
 * Every option postgres.js would otherwise read from a `PG*` env var is set here
 * (host, port, user, password, database, ssl, timeouts, pool size, application_name…),
 * so the process environment cannot redirect the pool. postgres.js timeouts are in
 * seconds; plinth settings are in milliseconds.
 */
export function clientOptions(input: ClientOptionsInput): ClientOptions {
  const { target, settings } = input;
  const password = target.password;
  return {
    host: target.host,
    port: target.port,
    path: target.host.startsWith('/') ? `${target.host}/.s.PGSQL.${target.port}` : undefined,
    user: target.user,
    // A function: postgres.js falls back to PGPASSWORD for an empty string, and a
    // function keeps the secret out of `sql.options`.
    pass: () => password,
    database: target.database,
    ssl: target.ssl === 'disable' ? false : target.ssl,
    sslnegotiation: null,
    max: input.max,
    idle_timeout: settings.idleTimeout / 1000,
    connect_timeout: settings.connectTimeout / 1000,
    max_lifetime: maxLifetimeSeconds,
    max_pipeline: 100,
    backoff: backoffSeconds,
    keep_alive: 60,
    prepare: true,
    debug: false,
    fetch_types: input.fetchTypes ?? true,
    publications: 'alltables',
    target_session_attrs: undefined,
    connection: {
      application_name: input.applicationName,
      statement_timeout: input.statementTimeoutMs,
    },
    onnotice: input.onnotice,
    ...(input.onclose ? { onclose: input.onclose } : {}),
    socket: input.socket,
  };
}

/** A postgres.js client built from {@link clientOptions}. It connects lazily, on the first query. */
export function createClient(input: ClientOptionsInput): postgres.Sql {
  // The type definitions say max_lifetime is a number; the library also takes a function.
  return postgres(clientOptions(input) as unknown as postgres.Options<Record<string, postgres.PostgresType>>);
}
