import { envName } from './env-names.js';
import { groupSchema, type SettingsGroup } from './settings-group.js';

export interface ConfigEntry {
  readonly env: string;
  readonly owner: string;
  readonly doc: string;
  readonly expected: string;
  /** The default as text, `<redacted>` for sensitive settings, undefined when none. */
  readonly default: string | undefined;
  readonly required: boolean;
  readonly sensitive: boolean;
}

export const REDACTED = '<redacted>';

/** Every env var the app reads, in declaration order: app settings first, then each plugin. */
export function describeSettings(groups: readonly SettingsGroup[]): ConfigEntry[] {
  return groups.flatMap((group) =>
    Object.entries(groupSchema(group)).map(([key, spec]) => {
      const value = group.overrides?.[key] ?? spec.default;
      return {
        env: envName(group.envPrefix, key),
        owner: group.owner,
        doc: spec.doc,
        expected: spec.format.expected,
        default: value === undefined ? undefined : spec.sensitive ? REDACTED : String(value),
        required: spec.required && value === undefined,
        sensitive: spec.sensitive,
      };
    }),
  );
}

/** The `--help` text: one block per env var, stable order. */
export function formatConfigHelp(appName: string, entries: readonly ConfigEntry[]): string {
  const lines = [`${appName} reads these environment variables:`, ''];
  for (const entry of entries) {
    const flags = [
      entry.required ? 'required' : entry.default === undefined ? 'optional' : `default: ${entry.default}`,
      ...(entry.sensitive ? ['sensitive'] : []),
    ];
    lines.push(`  ${entry.env}  (${flags.join(', ')})`);
    lines.push(`      ${entry.doc} [${entry.owner}; ${entry.expected}]`);
  }
  return lines.join('\n') + '\n';
}
