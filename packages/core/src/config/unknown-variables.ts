import type { ConfigProblem } from '../errors.js';
import { isKubernetesServiceLink } from './env-names.js';
import type { SettingFormat } from './formats.js';
import { setting } from './setting.js';

const NAME_PATTERN = /^[A-Z][A-Z0-9_]*\*?$/;

/** A comma-separated list of env var names; a trailing `*` matches every name that starts so. */
const envNameList: SettingFormat<readonly string[]> = {
  expected: 'comma-separated env var names (a trailing * matches a prefix), e.g. ORDERS_SERVICE_BUILD_SHA,ORDERS_SERVICE_FEATURE_*',
  parse(raw) {
    if (Array.isArray(raw) && raw.every((n) => typeof n === 'string' && NAME_PATTERN.test(n))) return raw as string[];
    if (typeof raw !== 'string') throw new Error(`expected ${envNameList.expected}`);
    const names = raw.split(',').map((n) => n.trim()).filter((n) => n !== '');
    if (!names.every((n) => NAME_PATTERN.test(n))) throw new Error(`expected ${envNameList.expected}`);
    return names;
  },
};

/** `{APP}_ALLOW_ENV`: the app's own env vars that are not plinth settings. */
export const allowEnvSetting = setting.custom(envNameList)({
  doc: 'Other {APP}_* variables this process is meant to see (e.g. a build SHA): they are neither reported as unknown nor taken for typos of a setting',
});

export const ALLOW_ENV_KEY = 'allowEnv';

/**
 * Unknown `{APP}_*` variables. A name within a small edit distance of a setting is most
 * likely a typo of it (the app would silently run on the default), so it is an error
 * with a suggestion; any other name is only a warning, so an extra variable in a
 * deployment (a build SHA, a feature flag read elsewhere) never stops a deploy.
 * Names in the allow list and the links Kubernetes injects for Services are neither.
 */
export function unknownVariables(
  appEnvPrefix: string,
  known: ReadonlySet<string>,
  env: Readonly<Record<string, string | undefined>>,
  allowed: readonly string[],
): { readonly errors: ConfigProblem[]; readonly warnings: string[] } {
  const errors: ConfigProblem[] = [];
  const warnings: string[] = [];
  const allowEnv = `${appEnvPrefix}_ALLOW_ENV`;
  const names = Object.keys(env)
    .filter((name) => name.startsWith(`${appEnvPrefix}_`) && !known.has(name))
    .filter((name) => !isKubernetesServiceLink(appEnvPrefix, name) && !isAllowed(name, allowed))
    .sort();
  for (const name of names) {
    const suggestion = likelyTypoOf(name, appEnvPrefix, known);
    if (suggestion) {
      errors.push({
        env: name,
        message: `${name} is not a setting of this app (did you mean ${suggestion}?); if it is meant for something else, list it in ${allowEnv}`,
      });
    } else {
      warnings.push(`${name} is not a setting of this app and is ignored (list it in ${allowEnv} to silence this)`);
    }
  }
  return { errors, warnings };
}

function isAllowed(name: string, allowed: readonly string[]): boolean {
  return allowed.some((entry) => (entry.endsWith('*') ? name.startsWith(entry.slice(0, -1)) : name === entry));
}

/**
 * The known name `name` is a likely typo of: the closest one whose distance (after the
 * app prefix) is at most one edit per six characters, and at least one. So `…_DB_HOTS`
 * is `…_DB_HOST`, but `BUILD_SHA` is nothing like `LOG_LEVEL`.
 */
export function likelyTypoOf(name: string, appEnvPrefix: string, known: ReadonlySet<string>): string | undefined {
  const rest = name.slice(appEnvPrefix.length + 1);
  let best: { name: string; distance: number } | undefined;
  for (const candidate of known) {
    if (!candidate.startsWith(`${appEnvPrefix}_`)) continue;
    const candidateRest = candidate.slice(appEnvPrefix.length + 1);
    const allowance = Math.max(1, Math.floor(Math.max(rest.length, candidateRest.length) / 6));
    const distance = editDistance(rest, candidateRest);
    if (distance <= allowance && (best === undefined || distance < best.distance)) best = { name: candidate, distance };
  }
  return best?.name;
}

/**
 * Optimal string alignment distance: insertions, deletions, substitutions and swaps of
 * two neighbours each cost one (`HOTS` → `HOST` is one edit, not two).
 */
export function editDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[] = new Array<number>(rows * cols).fill(0);
  const at = (i: number, j: number): number => d[i * cols + j] as number;
  for (let i = 0; i < rows; i++) d[i * cols] = i;
  for (let j = 0; j < cols; j++) d[j] = j;
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let value = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) value = Math.min(value, at(i - 2, j - 2) + 1);
      d[i * cols + j] = value;
    }
  }
  return at(rows - 1, cols - 1);
}
