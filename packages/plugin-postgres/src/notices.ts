import type { Logger } from '@plinth/core';
import type postgres from 'postgres';

/**
 * postgres.js prints server notices with console.log unless told otherwise; this sends
 * them to the plugin's logger instead. WARNING goes out at warn, DEBUG at debug, the
 * rest (NOTICE, INFO, LOG) at `level`.
 */
export function noticeLogger(logger: Logger, level: 'info' | 'debug' = 'info'): (notice: postgres.Notice) => void {
  return (notice) => {
    const severity = notice['severity'] ?? 'NOTICE';
    const chosen = severity === 'WARNING' ? 'warn' : severity.startsWith('DEBUG') ? 'debug' : level;
    const fields: Record<string, string> = { severity };
    for (const key of ['code', 'detail', 'hint', 'where'] as const) {
      const value = notice[key];
      if (value !== undefined) fields[key] = value;
    }
    logger[chosen]({ notice: fields }, `server notice: ${notice['message'] ?? ''}`);
  };
}
