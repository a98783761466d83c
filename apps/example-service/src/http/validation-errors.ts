import type { FastifyError } from 'fastify';

/** `{ error, fields: { email: 'must be an email address' } }` from fastify's schema errors. */
export function fieldErrors(error: FastifyError): { error: string; fields: Record<string, string> } {
  const fields: Record<string, string> = {};
  for (const issue of error.validation ?? []) {
    const missing = issue.keyword === 'required' ? String((issue.params as { missingProperty?: string }).missingProperty) : undefined;
    const field = missing ?? (issue.instancePath.replace(/^\//, '').replace(/\//g, '.') || '(body)');
    fields[field] ??= missing ? 'is required' : describe(issue.keyword, issue.message);
  }
  return { error: 'invalid input', fields };
}

function describe(keyword: string, fallback: string | undefined): string {
  switch (keyword) {
    case 'pattern':
      return 'must be an email address';
    case 'minLength':
      return 'must not be empty';
    case 'maxLength':
      return 'is too long';
    default:
      return fallback ?? 'is invalid';
  }
}
