import { pino, type SerializedError } from 'pino';

/**
 * Log paths censored by default: credentials, and the places request data and personal
 * fields end up when a service logs a request, a body or a record. Apps add paths with
 * the `LOG_REDACT` setting (pino redact syntax, comma-separated).
 */
export const DEFAULT_REDACT_PATHS: readonly string[] = [
  'password',
  '*.password',
  'config.password',
  'url',
  '*.url',
  'token',
  '*.token',
  'secret',
  '*.secret',
  'authorization',
  '*.authorization',
  'cookie',
  '*.cookie',
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["set-cookie"]',
  'res.headers["set-cookie"]',
  'body',
  '*.body',
  'req.body',
  'request.body',
  'email',
  '*.email',
  'phone',
  '*.phone',
  'address',
  '*.address',
  'err.params',
  'err.parameters',
  'err.detail',
  'error.params',
  'error.detail',
];

export const CENSOR = '<redacted>';

/** The redact paths: the defaults plus `extra` (comma-separated), without blanks or repeats. */
export function redactPaths(extra = ''): string[] {
  const added = extra
    .split(',')
    .map((path) => path.trim())
    .filter((path) => path.length > 0);
  return [...new Set([...DEFAULT_REDACT_PATHS, ...added])];
}

/**
 * pino's error serializer, minus the values a failed query carried. Query builders put
 * the bound parameters (user data: emails, names) into the error's message and stack
 * (`Failed query: … params: a@b.example`) and a `params` field; drivers put row values
 * into `detail` (`Key (email)=(a@b.example) already exists`). The SQL text stays.
 */
export function serializeError(error: unknown): SerializedError | unknown {
  if (!(error instanceof Error)) return error;
  const serialized = pino.stdSerializers.err(error) as SerializedError & Record<string, unknown>;
  for (const values of parameterListsOf(error)) {
    if (values.length === 0) continue;
    const needle = `params: ${values}`;
    serialized.message = serialized.message.split(needle).join(`params: ${CENSOR}`);
    if (typeof serialized.stack === 'string') serialized.stack = serialized.stack.split(needle).join(`params: ${CENSOR}`);
  }
  for (const field of ['params', 'parameters', 'detail']) {
    if (field in serialized) serialized[field] = CENSOR;
  }
  return serialized;
}

/** `String(params)` of every error in the cause chain that carries bound parameters. */
function parameterListsOf(error: Error): string[] {
  const lists: string[] = [];
  for (let current: unknown = error, depth = 0; depth < 5 && current instanceof Object; current = (current as { cause?: unknown }).cause, depth++) {
    const params = (current as { params?: unknown }).params ?? (current as { parameters?: unknown }).parameters;
    if (Array.isArray(params)) lists.push(String(params));
  }
  return lists;
}
