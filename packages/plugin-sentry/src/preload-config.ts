import { envName, messageOf, type SettingsOf, type SettingsSchema } from '@plinth/core';

/**
 * Reads a settings schema from `{APP}_{PREFIX}_*` the way the app will: an empty variable
 * is unset, the schema's format parses the rest. Throws with the variable's name on a bad value.
 */
export function readSettingsFromEnv<S extends SettingsSchema>(schema: S, app: string, prefix: string, env: NodeJS.ProcessEnv): SettingsOf<S> {
  const values: Record<string, unknown> = {};
  for (const [key, spec] of Object.entries(schema)) {
    const name = envName(app, prefix, key);
    const raw = env[name];
    const set = raw !== undefined && raw !== '';
    try {
      values[key] = set ? spec.format.parse(raw) : spec.default;
    } catch (error) {
      const shown = spec.sensitive ? '<redacted>' : JSON.stringify(raw);
      throw new Error(`${name}=${shown} is invalid: ${messageOf(error)}`, { cause: error });
    }
  }
  return values as SettingsOf<S>;
}
