import { pino, type Logger, type LevelWithSilent, type DestinationStream } from 'pino';

export type { Logger } from 'pino';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/**
 * JSON logs to stdout. Paths that commonly hold secrets are redacted as a second line
 * of defence; the first is that plinth never logs config values marked sensitive.
 */
export function createLogger(appName: string, level: LevelWithSilent, destination?: DestinationStream): Logger {
  const options = {
    level,
    base: { app: appName },
    redact: { paths: ['password', '*.password', 'config.password', 'url', '*.url'], censor: '<redacted>' },
  };
  // Synchronous by default: the process exits right after its last log line, and an
  // async buffer would lose exactly the lines that explain why it exited.
  return pino(options, destination ?? pino.destination({ dest: 1, sync: true }));
}
