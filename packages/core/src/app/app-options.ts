import type { DestinationStream } from 'pino';
import type { EnvSource } from '../config/load-settings.js';
import type { SettingsSchema } from '../config/setting.js';
import type { ServiceClass } from '../container/component-graph.js';
import type { AppHttp } from '../http/app-http.js';
import type { BackoffOptions } from '../lifecycle/backoff.js';
import type { HookTimeouts } from '../lifecycle/component.js';
import type { PluginDeclaration } from '../plugin/define-plugin.js';

export interface AppOptions<S extends SettingsSchema = SettingsSchema> {
  /** Service name, e.g. `user-service`; env vars start with `USER_SERVICE_`. */
  readonly name: string;
  /** The service's version (its package version): printed by `--version`, given to plugins. */
  readonly version?: string;
  readonly plugins?: readonly PluginDeclaration[];
  readonly services?: readonly ServiceClass[];
  /**
   * Instances used in place of listed services (tests): the class stays the injection
   * token, the given object is what gets injected, and its own injections are not built.
   */
  readonly overrides?: ReadonlyMap<ServiceClass, object>;
  /** The app's own settings, read from `{APP}_{SETTING}`; inject them with `@Inject(APP_SETTINGS)`. */
  readonly settings?: S;
  /** Where settings are read from; `process.env` by default. */
  readonly env?: EnvSource;
  /** Where logs go; stdout by default. */
  readonly logDestination?: DestinationStream;
  /** Default hook deadlines of services (plugins have their own settings). */
  readonly timeouts?: Partial<HookTimeouts>;
  /** Backoff between attempts of a critical preStart. */
  readonly retryBackoff?: BackoffOptions;
  /** Backoff between background reconnects of a degraded non-critical plugin. */
  readonly recoveryBackoff?: BackoffOptions;
}

/** The health checks behind the probes. */
export interface AppHealth {
  /** The aggregate: state and every check (`GET /health`). */
  report(): ReturnType<AppHttp['health']['report']>;
  liveness(): ReturnType<AppHttp['health']['liveness']>;
  startup(): ReturnType<AppHttp['health']['startup']>;
  /** How many rounds of checks have run: concurrent probes share one. */
  readonly runs: number;
}
