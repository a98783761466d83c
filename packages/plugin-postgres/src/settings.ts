import { setting, type SettingFormat } from '@plinth/core';

export const SSL_MODES = ['disable', 'require', 'verify-full'] as const;
export type SslMode = (typeof SSL_MODES)[number];

const URL_EXPECTED = `a postgres:// or postgresql:// URL (the only query parameter allowed is sslmode=${SSL_MODES.join('|')})`;

/**
 * A connection URL. Query parameters other than `sslmode` are rejected rather than
 * ignored: a silently dropped `?sslmode=...` or `?options=...` would change what the
 * operator thinks is configured.
 */
const postgresUrl: SettingFormat<string> = {
  expected: URL_EXPECTED,
  parse(raw) {
    if (typeof raw !== 'string') throw new Error(`expected ${URL_EXPECTED}`);
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      throw new Error(`expected ${URL_EXPECTED}`);
    }
    if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') throw new Error(`expected ${URL_EXPECTED}`);
    if (url.hostname === '') throw new Error(`expected ${URL_EXPECTED} with a host`);
    for (const [key, value] of url.searchParams) {
      if (key !== 'sslmode' || !(SSL_MODES as readonly string[]).includes(value)) {
        throw new Error(`expected ${URL_EXPECTED}`);
      }
    }
    return raw;
  },
};

/**
 * Settings of one postgres instance, read from `{APP}_{PREFIX}_{SETTING}`.
 * Every connection field is passed to postgres.js explicitly, so the process's `PG*`
 * variables never change where the app connects.
 */
export const postgresSettings = {
  url: setting.custom(postgresUrl)({
    doc: 'Connection URL (postgres://user:password@host:port/database). Its parts win over HOST, PORT, USER, PASSWORD and DATABASE. When neither URL nor HOST is set, the instance runs embedded (PGlite): see EMBEDDED',
    sensitive: true,
  }),
  host: setting.nonEmptyString({
    doc: 'PostgreSQL host (or a unix socket folder starting with /). When neither URL nor HOST is set, the instance runs embedded (PGlite): see EMBEDDED',
  }),
  port: setting.port({ doc: 'PostgreSQL port', default: 5432 }),
  user: setting.nonEmptyString({ doc: 'User name', default: 'postgres' }),
  password: setting.string({ doc: 'Password', sensitive: true }),
  database: setting.nonEmptyString({ doc: 'Database name', default: 'postgres' }),
  ssl: setting.oneOf(SSL_MODES, {
    doc: 'TLS: disable, require (encrypted, certificate not checked) or verify-full (certificate and host name checked)',
    default: 'disable',
  }),
  poolMax: setting.positiveInt({ doc: 'Maximum connections in the pool', default: 10 }),
  idleTimeout: setting.duration({ doc: 'Close pool connections idle this long (ms; 0 keeps them open)', default: 0 }),
  connectTimeout: setting.duration({ doc: 'Give up opening one connection after this long (ms)', default: 5000 }),
  statementTimeout: setting.duration({
    doc: 'Server-side statement_timeout of every pool connection: a statement running longer is cancelled by the server (ms; 0 means no limit)',
    default: 30_000,
  }),
  stopQueryGrace: setting.duration({
    doc: 'Once shutdown begins, how long a query may go without an answer before it is cancelled and its connection closed; on stop, how long queries still running may take (ms). Keep it below STOP_TIMEOUT and the HTTP drain timeout, so a hung server cannot hold shutdown past its budget',
    default: 8_000,
  }),
  migrations: setting.string({
    doc: 'Folder of drizzle-kit migrations to apply at start (relative to the working directory). Overrides the migrations option given in code',
  }),
  dataDir: setting.string({
    doc: 'Embedded PGlite only: data folder, so data survives restarts (unset: in memory)',
  }),
} as const;

export type PostgresSettingsSchema = typeof postgresSettings;
