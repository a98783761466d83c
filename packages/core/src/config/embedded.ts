import type { ConfigProblem } from '../errors.js';
import { envName } from './env-names.js';
import { setting } from './setting.js';

/** A plugin's embedded fallback (PGlite, an in-memory store, an in-process broker). */
export interface EmbeddedFallback {
  /**
   * The setting that names the server (`url`), or several (`['url', 'host']`): the
   * instance runs embedded when every one is empty. The first is named in errors.
   */
  readonly serverSetting: string | readonly string[];
  /** Embedded is fine in production too, without `{APP}_{PREFIX}_EMBEDDED=true`. */
  readonly allowedInProduction?: boolean;
}

/** The `EMBEDDED` setting core adds to every group with a fallback. */
export const embeddedSetting = setting.boolean({
  doc: 'Run embedded (in this process, data not shared with other replicas nor kept safe) when no server is set. Embedded is the default outside production; in production (NODE_ENV=production, a Kubernetes pod, or {APP}_ENV=production) a missing server is a config error unless this is true',
  default: false,
});

export function serverSettingsOf(fallback: EmbeddedFallback): readonly string[] {
  return typeof fallback.serverSetting === 'string' ? [fallback.serverSetting] : fallback.serverSetting;
}

/**
 * One rule for every plugin:
 * - a server setting is set → not embedded (and `EMBEDDED=true` as well is a contradiction);
 * - none is set, and not production, or `EMBEDDED=true`, or embedded is allowed in
 *   production → embedded;
 * - none is set in production otherwise → a problem naming the server setting.
 */
export function decideEmbedded(
  envPrefix: string,
  fallback: EmbeddedFallback,
  values: Readonly<Record<string, unknown>>,
  production: boolean,
): { readonly embedded: boolean; readonly problem?: ConfigProblem } {
  const servers = serverSettingsOf(fallback);
  const serverEnv = servers.map((key) => envName(envPrefix, key));
  const embeddedEnv = envName(envPrefix, 'embedded');
  const setServer = servers.findIndex((key) => values[key] !== undefined && values[key] !== '');
  const asked = values['embedded'] === true;
  if (setServer >= 0) {
    if (!asked) return { embedded: false };
    const name = serverEnv[setServer] as string;
    return {
      embedded: false,
      problem: { env: embeddedEnv, message: `${embeddedEnv}=true contradicts ${name}, which is set: unset one of them` },
    };
  }
  if (!production || asked || fallback.allowedInProduction) return { embedded: true };
  const [first, ...others] = serverEnv as [string, ...string[]];
  const alternatives = others.length ? ` (or ${others.join(', ')})` : '';
  return {
    embedded: false,
    problem: {
      env: first,
      message: `${first}${alternatives} is required in production; set it, or set ${embeddedEnv}=true to run embedded on purpose`,
    },
  };
}

/** The one line core logs for each plugin that runs embedded. */
export function embeddedNotice(prefix: string, target: string | undefined, envPrefix: string, fallback: EmbeddedFallback): string {
  const server = envName(envPrefix, serverSettingsOf(fallback)[0] as string);
  return `${prefix} running embedded${target ? ` (${target})` : ''}: data is not shared with other replicas and not kept beyond this machine; set ${server} to use a server`;
}
