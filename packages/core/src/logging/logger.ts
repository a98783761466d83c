import { pino, type Logger, type LevelWithSilent, type DestinationStream } from 'pino';
import { CENSOR, redactPaths, serializeError } from './redaction.js';
import { requestLogFields } from './request-scope.js';

export type { Logger } from 'pino';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/**
 * JSON logs to stdout. Paths that commonly hold secrets, request bodies and personal
 * fields are redacted (plus `extraRedactPaths`, comma-separated), and errors lose the
 * query parameters drivers copy into them. plinth itself never logs config values marked
 * sensitive. Lines logged while serving a request carry the fields request handlers added.
 */
export function createLogger(appName: string, level: LevelWithSilent, destination?: DestinationStream, extraRedactPaths = ''): Logger {
  const options = {
    level,
    base: { app: appName },
    redact: { paths: redactPaths(extraRedactPaths), censor: CENSOR },
    serializers: { err: serializeError, error: serializeError },
    // Inside an HTTP request, every line carries what request handlers added (`requestId`).
    mixin: requestLogFields,
  };
  // Synchronous by default: the process exits right after its last log line, and an
  // async buffer would lose exactly the lines that explain why it exited.
  return pino(options, destination ?? pino.destination({ dest: 1, sync: true }));
}
