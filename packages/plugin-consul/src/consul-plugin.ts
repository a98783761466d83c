import {
  envName,
  messageOf,
  PluginUnavailableError,
  type AppState,
  type HealthCheck,
  type HealthCheckContext,
  type HookContext,
  type OnStop,
  type PluginContext,
  type PreStart,
} from '@plinth/core';
import { raceAbort } from '@plinth/core/lifecycle';
import { ConsulClient, goDuration, type CheckStatus, type ServiceRegistration } from './consul-client.js';
import { ConsulDiscovery } from './consul-discovery.js';
import type { Discovery, WatchListener } from './discovery.js';
import { EmbeddedRegistry } from './embedded-registry.js';
import { NoHealthyInstanceError } from './errors.js';
import type { Resolution, ServiceInstance } from './instance.js';
import { advertisedAddress, instanceSettings, type ConsulSettings, type InstanceSettings } from './instance-settings.js';
import { consulRegistrar, embeddedRegistrar } from './registrar.js';
import { Registration } from './registration.js';

/** Options of `resolve`, `lookup`, `pick` and `watch`. */
export interface CallOptions {
  readonly signal?: AbortSignal;
}

/**
 * ready → passing, degraded → warning, anything else (starting, draining…) → critical.
 * https://developer.hashicorp.com/consul/docs/services/usage/checks (check statuses)
 */
export function checkStatusOf(state: AppState): CheckStatus {
  return state === 'ready' ? 'passing' : state === 'degraded' ? 'warning' : 'critical';
}

/**
 * The agent as logs and `/health` show it: `host:port` and any path, never user or
 * password. Not the URL itself: the URL is sensitive, so core would mask all of it.
 */
function agentTarget(url: string): string {
  const { host, pathname } = new URL(url);
  return pathname === '/' ? host : `${host}${pathname.replace(/\/$/, '')}`;
}

const STARTED: ReadonlySet<AppState> = new Set(['ready', 'degraded']);
const NEVER = new AbortController().signal;

/**
 * One Consul instance. Inject it with `@InjectPlugin('service_registry')`: `resolve`,
 * `pick` and `watch` other services; this app registers itself once it is ready and
 * deregisters first when it shuts down.
 */
export class ConsulPlugin implements PreStart, OnStop, HealthCheck {
  /** `consul` with a URL, else `embedded` (the in-process registry). */
  readonly mode: 'consul' | 'embedded';
  /** Where it connects (the agent's `host:port`, never user or password), or `embedded`. */
  readonly target: string;
  /** The name and ID this app registers under. */
  readonly serviceName: string;
  readonly serviceId: string;
  readonly #ctx: PluginContext<ConsulSettings, object>;
  readonly #settings: InstanceSettings;
  readonly #client: ConsulClient | undefined;
  readonly #discovery: Discovery;
  readonly #registration: Registration;
  readonly #roundRobin = new Map<string, number>();
  #deregistered: Promise<void> | undefined;

  constructor(ctx: PluginContext<ConsulSettings, object>) {
    this.#ctx = ctx;
    const { settings, app } = ctx;
    this.#settings = instanceSettings(settings, ctx.appName, ctx.prefix);
    this.serviceName = this.#settings.name;
    this.serviceId = this.#settings.id;
    let registry: EmbeddedRegistry | undefined;
    // Core decides (URL empty, or EMBEDDED=true on purpose); a URL is then never used.
    const url = ctx.embedded ? undefined : settings.url;
    if (url === undefined) {
      this.mode = 'embedded';
      this.target = 'embedded';
      this.#client = undefined;
      registry = new EmbeddedRegistry(this.#settings.staticInstances);
      this.#discovery = registry;
    } else {
      this.mode = 'consul';
      this.target = agentTarget(url);
      this.#client = new ConsulClient(url, settings.token || undefined);
      this.#discovery = new ConsulDiscovery({
        client: this.#client,
        waitMs: settings.watchWait,
        requestTimeoutMs: settings.requestTimeout,
        logger: ctx.logger,
        unavailable: (reason, cause) => this.#unavailable(reason, cause),
        onReachability: (reachable, error) => this.#reachability(reachable, error),
      });
    }
    this.#registration = new Registration({
      id: this.serviceId,
      registrar: registry ? embeddedRegistrar(registry) : consulRegistrar(this.#client!, settings.requestTimeout),
      mode: settings.check,
      intervalMs: settings.checkInterval,
      logger: ctx.logger,
      build: (status) => this.#registrationFor(status),
      status: () => checkStatusOf(app.state),
      onReachability: registry ? undefined : (reachable, error) => this.#reachability(reachable, error),
    });
    // Deregister before the shutdown delay, so resolvers stop choosing this instance while it still serves.
    app.addShutdownStep((signal) => this.#deregister(signal), { first: true, timeoutMs: settings.deregisterTimeout });
    app.onStateChange(({ to }) => {
      if (STARTED.has(to)) this.#startRegistration();
      this.#registration.statusChanged();
    });
  }

  /** Whether this app is registered right now (as far as the plugin knows). */
  get registered(): boolean {
    return this.#registration.registered;
  }

  /**
   * The instances of `service` whose checks pass (or warn: degraded but serving), passing
   * first. Served from a cache kept fresh by a blocking query; while Consul is unreachable
   * the last known list is returned. Throws PluginUnavailableError when nothing is cached
   * and Consul cannot be reached.
   */
  async resolve(service: string, options: CallOptions = {}): Promise<readonly ServiceInstance[]> {
    return (await this.lookup(service, options)).instances;
  }

  /** Like `resolve`, with how fresh the list is: `stale` while Consul is unreachable, `ageMs` since it last confirmed the list. */
  lookup(service: string, options: CallOptions = {}): Promise<Resolution> {
    return this.#discovery.lookup(service, options.signal ?? NEVER);
  }

  /** The next instance of `service`, round-robin over passing instances (over warning ones when none passes). */
  async pick(service: string, options: CallOptions = {}): Promise<ServiceInstance> {
    const instances = await this.resolve(service, options);
    const passing = instances.filter((instance) => instance.status === 'passing');
    const pool = passing.length > 0 ? passing : instances;
    if (pool.length === 0) throw new NoHealthyInstanceError(service);
    const turn = this.#roundRobin.get(service) ?? 0;
    this.#roundRobin.set(service, turn + 1);
    return pool[turn % pool.length]!;
  }

  /** Calls `listener` with the current list (once known) and each changed list; returns the unsubscribe. */
  watch(service: string, listener: WatchListener, options: CallOptions = {}): () => void {
    const { signal } = options;
    if (signal?.aborted) return () => undefined;
    const unsubscribe = this.#discovery.subscribe(service, listener);
    signal?.addEventListener('abort', unsubscribe, { once: true });
    return () => {
      signal?.removeEventListener('abort', unsubscribe);
      unsubscribe();
    };
  }

  async preStart(ctx: HookContext): Promise<void> {
    const { appName, prefix, logger } = this.#ctx;
    if (this.#client === undefined) {
      logger.info(
        { serviceName: this.serviceName, static: this.#settings.staticInstances.length },
        `no Consul configured: using the in-process registry (this app and ${envName(appName, prefix, 'static')}); set ${envName(appName, prefix, 'url')} for Consul`,
      );
      return;
    }
    await this.#client.leader(ctx.signal, this.#ctx.settings.requestTimeout);
  }

  async onStop(ctx: HookContext): Promise<void> {
    try {
      await this.#deregister(ctx.signal);
    } finally {
      this.#discovery.close();
      this.#client?.destroy();
    }
  }

  /** The agent answers (`/v1/status/leader`) within the check's timeout. */
  async healthCheck({ signal }: HealthCheckContext): Promise<void> {
    await this.#client?.leader(signal, this.#ctx.settings.requestTimeout);
  }

  #startRegistration(): void {
    const { app } = this.#ctx;
    if (this.#deregistered !== undefined) return;
    if (app.httpAddress() !== undefined) return this.#registration.start();
    const stop = app.onListening(() => {
      stop();
      if (this.#deregistered === undefined) this.#registration.start();
    });
  }

  #deregister(signal: AbortSignal): Promise<void> {
    this.#deregistered ??= this.#registration.deregister(signal).catch((error: unknown) => {
      this.#ctx.logger.warn({ err: this.#ctx.redact(messageOf(error)) }, 'could not deregister from Consul: it will drop this instance once its check fails');
    });
    return raceAbort(this.#deregistered, signal).catch(() => undefined);
  }

  #registrationFor(status: CheckStatus): ServiceRegistration {
    const { settings, app } = this.#ctx;
    const listening = app.httpAddress() ?? { host: '127.0.0.1', port: 0 };
    const address = advertisedAddress(settings.address, listening);
    const { port } = listening;
    const interval = settings.checkInterval;
    const common = {
      name: `${this.serviceName} readiness`,
      checkid: `service:${this.serviceId}`,
      status,
      deregistercriticalserviceafter: goDuration(settings.deregisterCriticalAfter),
    };
    const check =
      settings.check === 'ttl'
        ? // Three beats may be missed before Consul marks the instance critical.
          { ...common, ttl: goDuration(interval * 3), timeout: goDuration(interval) }
        : { ...common, http: `http://${address.includes(':') ? `[${address}]` : address}:${port}${app.healthPath}/ready`, interval: goDuration(interval), timeout: goDuration(Math.min(interval, 5000)) };
    return { id: this.serviceId, name: this.serviceName, address, port, tags: this.#settings.tags, meta: this.#settings.meta, check };
  }

  /** The app is degraded while the agent cannot be reached, and ready again once it answers. */
  #reachability(reachable: boolean, error: unknown): void {
    const { availability, redact } = this.#ctx;
    if (reachable) availability.markAvailable();
    else availability.markUnavailable(redact(`Consul agent unreachable: ${messageOf(error)}`));
  }

  #unavailable(reason: string, cause: unknown): Error {
    return new PluginUnavailableError(this.#ctx.type, this.#ctx.prefix, this.#ctx.redact(`${reason}: ${messageOf(cause)}`));
  }
}
