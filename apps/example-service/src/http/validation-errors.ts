import type { FastifyError } from 'fastify';

/** `{ error, fields: { email: 'must be an email address' } }` from fastify's schema errors. */
export function fieldErrors(error: FastifyError): { error: string; fields: Record<string, string> } {
  const fields: Record<string, string> = {};
  for (const issue of error.validation ?? []) {
    const missing = issue.keyword === 'required' ? String((issue.params as { missingProperty?: string }).missingProperty) : undefined;
    const field = missing ?? (issue.instancePath.replace(/^\//, '').replace(/\//g, '.') || '(body)');
    const unknown = issue.keyword === 'additionalProperties' ? String((issue.params as { additionalProperty?: string }).additionalProperty) : undefined;
    if (unknown !== undefined) fields[unknown] ??= 'is not a known field';
    else fields[field] ??= missing ? 'is required' : describe(field, issue.keyword, issue.message);
  }
  return { error: 'invalid input', fields };
}

function describe(field: string, keyword: string, fallback: string | undefined): string {
  switch (keyword) {
    case 'pattern':
      if (field === 'email') return 'must be an email address';
      if (field === 'id') return 'must be a positive whole number';
      return 'must not contain control characters';
    case 'type':
      return fallback ?? 'has the wrong type';
    case 'minLength':
      return 'must not be empty';
    case 'maxLength':
      return 'is too long';
    default:
      return fallback ?? 'is invalid';
  }
}
