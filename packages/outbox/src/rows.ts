/**
 * The rows of a drizzle `execute` result: postgres.js returns an array, PGlite an object
 * with `rows`. Service code that runs raw SQL on both drivers reads them through this.
 */
export function rowsOf<T>(result: unknown): T[] {
  if (Array.isArray(result)) return result as T[];
  const rows = (result as { rows?: unknown } | null)?.rows;
  if (Array.isArray(rows)) return rows as T[];
  throw new TypeError('unexpected result shape from execute(): neither an array nor { rows }');
}
