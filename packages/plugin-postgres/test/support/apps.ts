import { createApp, type App } from '@plinth/core';
import { fileURLToPath } from 'node:url';
import postgresJs from 'postgres';
import { postgres } from '../../src/index.js';
import { analyticsSchema, primarySchema } from '../fixtures/schema.js';
import { LogCapture } from '@plinth/testkit';
import { AccountService } from './services.js';

export const PRIMARY_MIGRATIONS = fileURLToPath(new URL('../fixtures/migrations', import.meta.url));
export const ANALYTICS_MIGRATIONS = fileURLToPath(new URL('../fixtures/analytics-migrations', import.meta.url));

export interface TestApp {
  readonly app: App;
  readonly logs: LogCapture;
}

/**
 * The `accounts` app: `primary_db` (critical, migrated) and `analytics_db`
 * (non-critical, migrated) used by one AccountService. Env names start with `ACCOUNTS_`.
 */
export function accountsApp(env: Record<string, string>): TestApp {
  const logs = new LogCapture();
  const app = createApp({
    name: 'accounts',
    plugins: [
      postgres('primary_db', { schema: primarySchema, migrations: PRIMARY_MIGRATIONS }),
      postgres('analytics_db', { schema: analyticsSchema, migrations: ANALYTICS_MIGRATIONS, critical: false }),
    ],
    services: [AccountService],
    env: { ACCOUNTS_LOG_LEVEL: 'debug', ...env },
    logDestination: logs,
    retryBackoff: { initialDelayMs: 50, maxDelayMs: 200 },
    recoveryBackoff: { initialDelayMs: 50, maxDelayMs: 200 },
  });
  return { app, logs };
}

/** An app with one `primary_db` instance (env names start with `LEDGER_`). */
export function ledgerApp(env: Record<string, string>, options: { migrations?: boolean } = {}): TestApp {
  const logs = new LogCapture();
  const app = createApp({
    name: 'ledger',
    plugins: [postgres('primary_db', { schema: primarySchema, ...(options.migrations === false ? {} : { migrations: PRIMARY_MIGRATIONS }) })],
    env: { LEDGER_LOG_LEVEL: 'debug', ...env },
    logDestination: logs,
    retryBackoff: { initialDelayMs: 50, maxDelayMs: 200 },
    recoveryBackoff: { initialDelayMs: 50, maxDelayMs: 200 },
  });
  return { app, logs };
}

/** Runs `fn` on a one-connection client to `url` that is closed afterwards. */
export async function withClient<T>(url: string, fn: (sql: postgresJs.Sql) => Promise<T>): Promise<T> {
  const sql = postgresJs(url, { max: 1, onnotice: () => {}, connect_timeout: 5 });
  try {
    return await fn(sql);
  } finally {
    await sql.end({ timeout: 5 });
  }
}

/** Open server connections to `database` opened by the app named `applicationName`. */
export async function connectionsTo(adminUrl: string, database: string, applicationName: string): Promise<number> {
  return withClient(adminUrl, async (sql) => {
    const [row] = await sql<{ n: number }[]>`
      select count(*)::int as n from pg_stat_activity where datname = ${database} and application_name = ${applicationName}`;
    return row?.n ?? 0;
  });
}
