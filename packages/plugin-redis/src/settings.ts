import { setting } from '@plinth/core';

/**
 * Settings of one Redis instance, read from `{APP}_{PREFIX}_{SETTING}`. With neither
 * `URL` nor `HOST` set the instance runs embedded, on an in-memory store (see `EMBEDDED`).
 */
export const redisSettings = {
  url: setting.url({
    doc: 'Redis URL (redis://user:pass@host:6379/0, rediss:// for TLS). Wins over HOST and PORT. Neither URL nor HOST set: embedded in-memory store (see EMBEDDED)',
    protocols: ['redis:', 'rediss:'],
    sensitive: true,
  }),
  host: setting.nonEmptyString({ doc: 'Redis host. Neither URL nor HOST set: embedded in-memory store (see EMBEDDED)' }),
  port: setting.port({ doc: 'Redis port', default: 6379 }),
  username: setting.string({ doc: 'ACL user name (used when the URL has none)' }),
  password: setting.string({ doc: 'Password (used when the URL has none)', sensitive: true }),
  db: setting.nat({ doc: 'Database index (used when the URL has no /<db> path)', default: 0 }),
  tls: setting.boolean({ doc: 'Connect with TLS (also on with a rediss:// URL)', default: false }),
  connectTimeout: setting.duration({ doc: 'Deadline of one connection attempt: TCP connect and handshake (ms)', default: 2000 }),
  commandTimeout: setting.duration({
    doc: 'Deadline of one command; a command without a reply by then fails and the connection is replaced (ms)',
    default: 500,
  }),
  breakerTimeout: setting.duration({
    doc: 'A cache call slower than this fails (a miss on .cacheAside) and counts towards opening the cache breaker (ms)',
    default: 250,
  }),
  breakerFailures: setting.positiveInt({ doc: 'Cache calls in a row slower than BREAKER_TIMEOUT that open the cache breaker', default: 5 }),
  breakerHalfOpenAfter: setting.duration({ doc: 'How long the open cache breaker refuses calls before letting one trial call through (ms)', default: 5000 }),
  // No default: the core reads an empty default as "unset"; absent means no prefix.
  keyPrefix: setting.string({ doc: 'Prepended to every key the cache facade reads or writes, e.g. "sessions:" (not applied to .client); none by default' }),
  memoryMaxEntries: setting.positiveInt({
    doc: 'Embedded in-memory store only: entries kept before the least recently used are evicted',
    default: 10_000,
  }),
} as const;
