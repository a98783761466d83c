/** A pino destination that keeps every log line, parsed, for assertions. */
export class LogCapture {
  readonly lines: Record<string, unknown>[] = [];

  write(line: string): void {
    for (const part of line.split('\n')) {
      if (part.trim() !== '') this.lines.push(JSON.parse(part) as Record<string, unknown>);
    }
  }

  /** Lines whose `msg` matches. */
  messages(pattern: RegExp): Record<string, unknown>[] {
    return this.lines.filter((line) => typeof line['msg'] === 'string' && pattern.test(line['msg']));
  }

  /** Everything logged, as one string, to check that a secret never appears. */
  get text(): string {
    return this.lines.map((line) => JSON.stringify(line)).join('\n');
  }
}
