const MAX_CAUSES = 5;

/**
 * One line that says what went wrong: the error's message (its name when empty), each of an
 * AggregateError's errors, and the cause chain (`fetch failed: connect ECONNREFUSED
 * 10.0.0.7:443`), skipping a cause whose text the message already contains.
 */
export function messageOf(error: unknown): string {
  return describe(error, 0);
}

function describe(error: unknown, depth: number): string {
  if (error instanceof AggregateError && error.errors.length > 0) {
    return error.errors.map((e) => describe(e, depth + 1)).join('; ');
  }
  if (!(error instanceof Error)) {
    const message = typeof error === 'object' && error !== null ? (error as { message?: unknown }).message : undefined;
    return typeof message === 'string' ? message : String(error);
  }
  const own = error.message || error.name;
  if (error.cause === undefined || depth >= MAX_CAUSES) return own;
  const cause = describe(error.cause, depth + 1);
  return cause === '' || own.includes(cause) ? own : `${own}: ${cause}`;
}
