import { PlinthError } from '@plinth/core';

/** `pick(service)` found no instance whose checks are passing or warning. */
export class NoHealthyInstanceError extends PlinthError {
  override readonly name = 'NoHealthyInstanceError';
  constructor(readonly service: string) {
    super(`no healthy instance of "${service}" is registered`);
  }
}

/** One line, with the cause chain. */
export function messageOf(error: unknown): string {
  const parts: string[] = [];
  for (let current = error, depth = 0; current !== undefined && depth < 5; depth++) {
    parts.push(current instanceof Error ? current.message : String(current));
    current = current instanceof Error ? current.cause : undefined;
  }
  return parts.join(': ');
}
