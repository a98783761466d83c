/** Socket-level failures: the server is unreachable or the connection dropped. */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
  // postgres.js's own codes
  'CONNECTION_CLOSED',
  'CONNECTION_DESTROYED',
  'CONNECT_TIMEOUT',
]);

/** Server errors that mean "this server cannot serve you right now", not "your query is wrong". */
const SERVER_UNAVAILABLE_CODES = new Set(['57P01', '57P02', '57P03']);

/**
 * Whether `error` (or its `cause`) says the database is unreachable, as opposed to a
 * failed query: network errors, postgres.js connection errors, SQLSTATE class 08
 * (connection exception) and server shutdown / not-yet-accepting codes.
 */
export function isConnectionError(error: unknown): boolean {
  return codesOf(error).some((code) => NETWORK_CODES.has(code) || code.startsWith('08') || SERVER_UNAVAILABLE_CODES.has(code));
}

/**
 * SQLSTATE classes that no retry can fix: 28 (the role or password is wrong) always; and,
 * while migrating, 42 (syntax or a missing object), 23 (a constraint) and 22 (bad data).
 * Transient migration failures (deadlock 40P01, lock timeout 55P03, cancel 57014) are not
 * among them.
 */
export function isPermanentOpenFailure(step: 'connect' | 'migrate', error: unknown): boolean {
  const code = sqlStateOf(error);
  if (code === undefined) return false;
  if (code.startsWith('28')) return true;
  return step === 'migrate' && ['42', '23', '22'].includes(code.slice(0, 2));
}

function sqlStateOf(error: unknown): string | undefined {
  return codesOf(error).find((code) => /^[0-9][0-9A-Z]{4}$/.test(code));
}

/** The string `code`s of `error` and its `cause` chain (drizzle wraps driver errors as `cause`). */
function codesOf(error: unknown): string[] {
  const codes: string[] = [];
  for (let current = error, depth = 0; depth < 5; current = (current as { cause?: unknown }).cause, depth++) {
    if (current === null || typeof current !== 'object') break;
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') codes.push(code);
  }
  return codes;
}

/**
 * Whether a transaction's query failed because postgres.js lost the transaction's own
 * connection: a connection error that postgres.js attached to one of its queries (it
 * marks those with a `query` property), here or in the `cause` chain drizzle wraps it in.
 */
export function lostTransactionConnection(error: unknown): boolean {
  for (let current = error, depth = 0; depth < 8 && typeof current === 'object' && current !== null; depth++) {
    if ('query' in current && isConnectionError(current)) return true;
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}

/**
 * Whether `reason` is the failure of the query postgres.js runs by itself on every new
 * connection to learn the server's array types (`fetch_types`). postgres.js 3.4 starts it
 * from a protocol callback and never handles its promise, so when the connection is cut,
 * cancelled or times out at that moment, the failure surfaces only as an unhandled rejection.
 * postgres.js marks query errors with the query's text, which is how it is recognised.
 */
export function isArrayTypesQueryFailure(reason: unknown): boolean {
  const query = typeof reason === 'object' && reason !== null ? (reason as { query?: unknown }).query : undefined;
  return typeof query === 'string' && query.includes('b.typarray') && query.includes('pg_catalog.pg_type');
}
