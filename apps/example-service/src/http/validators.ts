import { Ajv, type Options } from 'ajv';
import type { FastifySchemaCompiler } from 'fastify';

/** What every part shares: report every problem, keep the input as sent, no defaults filled in. */
const common: Options = { allErrors: true, removeAdditional: false, useDefaults: false };

/**
 * Bodies are validated as written: no type coercion (`{"name": 42}` is a 400, not `"42"`)
 * and unknown properties rejected rather than stripped. Path and query parameters arrive
 * as strings, so only they are coerced.
 */
const byPart: Record<string, Ajv> = {
  body: new Ajv({ ...common, coerceTypes: false }),
  params: new Ajv({ ...common, coerceTypes: true }),
  querystring: new Ajv({ ...common, coerceTypes: 'array' }),
  headers: new Ajv({ ...common, coerceTypes: true }),
};

/** fastify's validator compiler with one Ajv per request part. */
export const validatorCompiler: FastifySchemaCompiler<unknown> = ({ schema, httpPart }) => {
  const ajv = byPart[httpPart ?? 'body'];
  if (!ajv) throw new Error(`no validator for request part ${String(httpPart)}`);
  return ajv.compile(schema as object);
};
