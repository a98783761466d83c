/** One pino log line, parsed. */
export interface LogRecord {
  readonly level: number;
  readonly msg: string;
  readonly [field: string]: unknown;
}

/** A pino destination that keeps every line in memory, parsed, instead of writing to stdout. */
export class LogCapture {
  readonly records: LogRecord[] = [];
  readonly #raw: string[] = [];

  write(line: string): void {
    this.#raw.push(line);
    for (const text of line.split('\n')) {
      if (text.trim() === '') continue;
      try {
        this.records.push(JSON.parse(text) as LogRecord);
      } catch {
        this.records.push({ level: 30, msg: text });
      }
    }
  }

  /** Everything written, as one text: what to search for a value that must never be logged. */
  text(): string {
    return this.#raw.join('');
  }
}
