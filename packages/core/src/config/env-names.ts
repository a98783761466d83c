// Segments are setting keys, app names and plugin prefixes: few, and converted at every
// settings load (each app in a test run loads them again).
const segments = new Map<string, string>();

/** `user-service` → `USER_SERVICE`; `primary_db` → `PRIMARY_DB`; `poolMax` → `POOL_MAX`. */
export function toEnvSegment(name: string): string {
  let segment = segments.get(name);
  if (segment === undefined) {
    segment = name
      .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
      .replace(/[^A-Za-z0-9]+/g, '_')
      .replace(/^_+|_+$/g, '')
      .toUpperCase();
    if (segments.size < 4096) segments.set(name, segment);
  }
  return segment;
}

// `{PREFIX}_{KEY}` names, by prefix then key: every settings load reads one per setting,
// and the same string each time is looked up in the env and in sets without hashing it again.
const prefixedNames = new Map<string, Map<string, string>>();

export function envName(...segments: string[]): string {
  if (segments.length !== 2) return segments.map(toEnvSegment).join('_');
  const [prefix, key] = segments as [string, string];
  let byKey = prefixedNames.get(prefix);
  if (byKey === undefined) {
    byKey = new Map();
    if (prefixedNames.size < 4096) prefixedNames.set(prefix, byKey);
  }
  let name = byKey.get(key);
  if (name === undefined) {
    name = `${toEnvSegment(prefix)}_${toEnvSegment(key)}`;
    if (byKey.size < 4096) byKey.set(key, name);
  }
  return name;
}

/** Plugin prefixes are lower snake case so env names and log fields read the same everywhere. */
export const PREFIX_PATTERN = /^[a-z][a-z0-9_]*$/;

/**
 * Kubernetes injects `{SERVICE}_SERVICE_HOST`, `{SERVICE}_PORT_80_TCP…` for every Service
 * in the namespace; a Service named like the app would otherwise look like a typo.
 */
export function isKubernetesServiceLink(appPrefix: string, name: string): boolean {
  const rest = name.slice(appPrefix.length + 1);
  return /^(SERVICE_HOST|SERVICE_PORT(_[A-Z0-9_]+)?|PORT(_\d+_(TCP|UDP|SCTP)(_(PROTO|PORT|ADDR))?)?)$/.test(rest);
}
