import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError, createApp, StartupError } from '@plinth/core';
import { freePort } from '@plinth/testkit';
import { clientOptions } from '../src/client-options.js';
import { isPermanentOpenFailure } from '../src/connection-errors.js';
import { isConnectionError, postgres } from '../src/index.js';
import { migrationLockKey } from '../src/migrations.js';
import { resolveTarget, type PostgresSettings, type ServerTarget } from '../src/target.js';
import { ledgerApp } from './support/apps.js';

const defaults: PostgresSettings = {
  url: undefined,
  host: undefined,
  port: 5432,
  user: 'postgres',
  password: undefined,
  database: 'postgres',
  ssl: 'disable',
  poolMax: 10,
  idleTimeout: 0,
  connectTimeout: 5000,
  statementTimeout: 0,
  stopQueryGrace: 8000,
  migrations: undefined,
  dataDir: undefined,
};

describe('postgres settings', () => {
  it('publishes every setting under {APP}_{PREFIX}_*, with the secrets marked sensitive', () => {
    const app = createApp({ name: 'user-service', plugins: [postgres('primary_db')] });
    const entries = app.describeSettings().filter((entry) => entry.env.startsWith('USER_SERVICE_PRIMARY_DB_'));
    const names = entries.map((entry) => entry.env.replace('USER_SERVICE_PRIMARY_DB_', ''));
    for (const name of [
      'URL',
      'HOST',
      'PORT',
      'USER',
      'PASSWORD',
      'DATABASE',
      'SSL',
      'POOL_MAX',
      'IDLE_TIMEOUT',
      'CONNECT_TIMEOUT',
      'STATEMENT_TIMEOUT',
      'MIGRATIONS',
      'DATA_DIR',
    ]) {
      assert.ok(names.includes(name), `missing USER_SERVICE_PRIMARY_DB_${name}`);
    }
    const sensitive = entries.filter((entry) => entry.sensitive).map((entry) => entry.env);
    assert.deepEqual(sensitive.sort(), ['USER_SERVICE_PRIMARY_DB_PASSWORD', 'USER_SERVICE_PRIMARY_DB_URL']);
  });

  it('rejects bad values before any I/O, naming each env var and never showing the URL', async () => {
    const { app } = ledgerApp({
      LEDGER_PRIMARY_DB_URL: 'postgres://u:url-secret@db.internal:5432/app?sslmode=prefer',
      LEDGER_PRIMARY_DB_PORT: '54x',
      LEDGER_PRIMARY_DB_SSL: 'on',
      LEDGER_PRIMARY_DB_POOL_MAX: '0',
    });
    const error = await app.start().then(
      () => assert.fail('config should be rejected'),
      (e: unknown) => e,
    );
    assert.ok(error instanceof ConfigError);
    assert.deepEqual(error.problems.map((p) => p.env).sort(), [
      'LEDGER_PRIMARY_DB_POOL_MAX',
      'LEDGER_PRIMARY_DB_PORT',
      'LEDGER_PRIMARY_DB_SSL',
      'LEDGER_PRIMARY_DB_URL',
    ]);
    assert.doesNotMatch(error.message, /url-secret/);
    assert.match(error.message, /sslmode=disable\|require\|verify-full/);
  });

  it('requires URL or HOST in production, naming the EMBEDDED switch', async () => {
    const { app } = ledgerApp({ NODE_ENV: 'production' });
    await assert.rejects(app.start(), (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.deepEqual(error.problems.map((p) => p.env), ['LEDGER_PRIMARY_DB_URL']);
      assert.match(error.message, /LEDGER_PRIMARY_DB_URL \(or LEDGER_PRIMARY_DB_HOST\) is required in production; set it, or set LEDGER_PRIMARY_DB_EMBEDDED=true/);
      return true;
    });
  });

  it('rejects URLs of another scheme or with other query parameters', async () => {
    for (const url of ['mysql://db/app', 'postgres://db/app?options=-c%20search_path%3Dx', 'not a url']) {
      const { app } = ledgerApp({ LEDGER_PRIMARY_DB_URL: url });
      await assert.rejects(app.start(), ConfigError, url);
    }
  });

  it('rejects bad code options when the instance is declared', () => {
    assert.throws(() => postgres('primary_db', { migrations: 42 as unknown as string }), /migrations option/);
    assert.throws(() => postgres('primary_db', { migrationsTable: '' }), /migrationsTable/);
  });
});

describe('connection target', () => {
  it('runs embedded when neither URL nor HOST is set', () => {
    assert.deepEqual(resolveTarget(defaults, true), { kind: 'embedded', dataDir: undefined });
    assert.deepEqual(resolveTarget({ ...defaults, dataDir: '.data/db' }, true), { kind: 'embedded', dataDir: '.data/db' });
  });

  it('takes the parts a URL has, decoded, and the rest from the single settings', () => {
    const target = resolveTarget({
      ...defaults,
      url: 'postgresql://app%40corp:p%3Ass@[::1]/orders?sslmode=verify-full',
      port: 6543,
      password: 'unused',
      database: 'unused',
    }, false);
    assert.deepEqual(target, {
      kind: 'server',
      host: '::1',
      port: 6543,
      user: 'app@corp',
      password: 'p:ss',
      database: 'orders',
      ssl: 'verify-full',
    });
    const partial = resolveTarget({ ...defaults, url: 'postgres://db.internal', password: 'from-setting', ssl: 'require' }, false);
    assert.deepEqual(partial, {
      kind: 'server',
      host: 'db.internal',
      port: 5432,
      user: 'postgres',
      password: 'from-setting',
      database: 'postgres',
      ssl: 'require',
    });
  });
});

describe('postgres.js options', () => {
  it('sets every option postgres.js would otherwise read from a PG* env var, with timeouts in seconds', () => {
    const target = resolveTarget({ ...defaults, host: 'db.internal' }, false) as ServerTarget;
    const options = clientOptions({
      target,
      settings: { ...defaults, host: 'db.internal', connectTimeout: 2500, idleTimeout: 30_000 },
      applicationName: 'user-service',
      max: 7,
      socket: () => assert.fail('no connection is opened here'),
      onnotice: () => {},
      statementTimeoutMs: 1500,
    });
    // postgres.js (src/index.js parseOptions) falls back to PG* vars for each of these unless the key is present.
    const envBacked = ['host', 'port', 'user', 'pass', 'database', 'ssl', 'sslnegotiation', 'max', 'idle_timeout', 'connect_timeout',
      'max_lifetime', 'max_pipeline', 'backoff', 'keep_alive', 'prepare', 'debug', 'fetch_types', 'publications'];
    for (const key of envBacked) assert.ok(key in options, `${key} is not set explicitly`);
    assert.equal(options.connect_timeout, 2.5);
    assert.equal(options.idle_timeout, 30);
    assert.equal(options.ssl, false);
    assert.equal(typeof options.pass, 'function');
    assert.deepEqual(options.connection, { application_name: 'user-service', statement_timeout: 1500 });
  });
});

describe('migrations', () => {
  it('locks on a key that is the same in every process and release', () => {
    assert.equal(migrationLockKey({ schema: 'drizzle', table: '__drizzle_migrations' }), '-8790391852838494551');
    assert.notEqual(migrationLockKey({ schema: 'drizzle', table: 'other' }), migrationLockKey({ schema: 'drizzle', table: '__drizzle_migrations' }));
  });

  it('fails startup naming a migrations folder that is not drizzle-kit output', async () => {
    const empty = mkdtempSync(path.join(tmpdir(), 'plinth-no-journal-'));
    try {
      const { app } = ledgerApp(
        {
          LEDGER_PRIMARY_DB_HOST: '127.0.0.1',
          LEDGER_PRIMARY_DB_PORT: String(await freePort()),
          LEDGER_PRIMARY_DB_MIGRATIONS: empty,
          LEDGER_PRIMARY_DB_START_TIMEOUT: '300',
        },
        { migrations: false },
      );
      await assert.rejects(app.start(), (error: Error) => {
        assert.ok(error instanceof StartupError);
        assert.ok(error.message.includes(`migrations folder ${empty} has no meta/_journal.json`), error.message);
        return true;
      });
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });
});

describe('connection errors', () => {
  it('tells an unreachable server from a failed query, through drizzle’s wrapping', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
    assert.equal(isConnectionError(refused), true);
    assert.equal(isConnectionError(Object.assign(new Error('x'), { code: 'CONNECTION_CLOSED' })), true);
    assert.equal(isConnectionError(Object.assign(new Error('terminating connection'), { code: '57P01' })), true);
    assert.equal(isConnectionError(Object.assign(new Error('x'), { code: '08006' })), true);
    assert.equal(isConnectionError(new Error('Failed query: select 1', { cause: refused })), true);
    assert.equal(isConnectionError(Object.assign(new Error('syntax error'), { code: '42601' })), false);
    assert.equal(isConnectionError(Object.assign(new Error('canceling statement due to statement timeout'), { code: '57014' })), false);
    assert.equal(isConnectionError('ECONNREFUSED'), false);
  });

  it('treats a rejected role and a migration that fails on its SQL as permanent, and nothing transient', () => {
    const code = (c: string) => new Error('Failed query', { cause: Object.assign(new Error(c), { code: c }) });
    assert.equal(isPermanentOpenFailure('connect', code('28P01')), true, 'password authentication failed');
    assert.equal(isPermanentOpenFailure('connect', code('28000')), true, 'role does not exist');
    assert.equal(isPermanentOpenFailure('migrate', code('42601')), true, 'syntax error in a migration');
    assert.equal(isPermanentOpenFailure('migrate', code('23505')), true, 'a migration breaks a unique constraint');
    assert.equal(isPermanentOpenFailure('connect', code('42601')), false, 'only migrations fail permanently on SQL');
    assert.equal(isPermanentOpenFailure('migrate', code('40P01')), false, 'deadlock: retry');
    assert.equal(isPermanentOpenFailure('migrate', code('55P03')), false, 'lock not available: retry');
    assert.equal(isPermanentOpenFailure('connect', code('57P03')), false, 'server starting up: retry');
    assert.equal(isPermanentOpenFailure('connect', Object.assign(new Error('x'), { code: 'ECONNREFUSED' })), false);
  });
});
