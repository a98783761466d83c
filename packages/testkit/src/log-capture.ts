/**
 * A pino destination that keeps every JSON log line, parsed, for assertions
 * (`createApp({ logDestination: logs })`). Also keeps test output clean.
 */
export class LogCapture {
  readonly lines: Record<string, unknown>[] = [];

  write(chunk: string): void {
    for (const line of chunk.split('\n')) {
      if (line.trim() !== '') this.lines.push(JSON.parse(line) as Record<string, unknown>);
    }
  }

  /** Lines whose `msg` matches. */
  matching(pattern: RegExp): Record<string, unknown>[] {
    return this.lines.filter((line) => pattern.test(String(line['msg'] ?? '')));
  }

  /** Everything logged, as one string: to check that a secret never appears, or to show in a failure. */
  get text(): string {
    return this.lines.map((line) => JSON.stringify(line)).join('\n');
  }
}
