/**
 * The in-memory state of the fake Consul agent: services, their checks, and the raft-like
 * index that blocking queries wait on. Every rule here follows a Consul doc page, cited
 * where it applies. Times are `Date.now()` ms so tests can compare them with their own.
 */

export type CheckStatus = 'passing' | 'warning' | 'critical';

/** A check definition as sent in `Check` / `Checks` of a service registration. */
export interface CheckDefinition {
  readonly CheckID?: string;
  readonly Name?: string;
  readonly HTTP?: string;
  readonly Method?: string;
  readonly Interval?: string;
  readonly Timeout?: string;
  readonly TTL?: string;
  readonly Status?: string;
  readonly Notes?: string;
  readonly DeregisterCriticalServiceAfter?: string;
}

/** The body of `PUT /v1/agent/service/register`. */
export interface ServiceDefinition {
  readonly ID?: string;
  readonly Name?: string;
  readonly Tags?: readonly string[];
  readonly Address?: string;
  readonly Port?: number;
  readonly Meta?: Readonly<Record<string, string>>;
  readonly Check?: CheckDefinition;
  readonly Checks?: readonly CheckDefinition[];
}

export interface FakeCheck {
  readonly id: string;
  readonly name: string;
  readonly serviceId: string;
  readonly kind: 'ttl' | 'http';
  status: CheckStatus;
  output: string;
  /** When the check last entered `critical` (undefined while not critical). */
  criticalSince: number | undefined;
  /** TTL checks: the time the TTL runs out without a new update. */
  ttlExpiresAt: number | undefined;
  readonly ttlMs: number | undefined;
  readonly http: string | undefined;
  readonly method: string;
  readonly intervalMs: number | undefined;
  readonly timeoutMs: number;
  readonly deregisterCriticalAfterMs: number | undefined;
}

export interface FakeService {
  readonly id: string;
  readonly name: string;
  readonly tags: readonly string[];
  readonly address: string;
  readonly port: number;
  readonly meta: Readonly<Record<string, string>>;
  readonly checks: FakeCheck[];
}

/** Thrown for a request Consul would refuse; the server answers with its status and message. */
export class AgentError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
  ) {
    super(message);
  }
}

const GO_DURATION_UNITS: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Parses a Go duration (`10s`, `1m30s`, `250ms`), the format of every Consul duration field. */
export function parseGoDuration(text: string): number {
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== text) throw new AgentError(400, `invalid duration "${text}"`);
  return parts.reduce((sum, [, value, unit]) => sum + Number(value) * (GO_DURATION_UNITS[unit ?? 'ms'] ?? 1), 0);
}

function optionalDuration(text: string | undefined): number | undefined {
  return text === undefined || text === '' ? undefined : parseGoDuration(text);
}

export interface CatalogOptions {
  /** Consul's reaper runs every 30 s; tests shorten it. */
  readonly reapIntervalMs: number;
  /** Consul enforces at least 1 minute for DeregisterCriticalServiceAfter; tests lower it. */
  readonly minDeregisterCriticalAfterMs: number;
}

type Waiter = () => void;

export class Catalog {
  readonly services = new Map<string, FakeService>();
  /** The index of the whole state store; every write raises it. */
  #index = 1;
  /** Per service name: the index of its last change (what `X-Consul-Index` reports for it). */
  readonly #serviceIndex = new Map<string, number>();
  readonly #waiters = new Set<Waiter>();

  constructor(readonly options: CatalogOptions) {}

  /**
   * https://developer.hashicorp.com/consul/api-docs/agent/service#register-service
   * ID defaults to Name; registering an existing ID replaces it. One `Check` gets the
   * CheckID `service:<id>`; several `Checks` get `service:<id>:1`, `:2`… unless given.
   * A check starts `critical` unless its definition sets `Status`
   * (https://developer.hashicorp.com/consul/docs/services/usage/checks).
   */
  register(definition: ServiceDefinition, now: number): FakeService {
    if (typeof definition.Name !== 'string' || definition.Name === '') throw new AgentError(400, 'Missing service name');
    const id = definition.ID || definition.Name;
    const definitions = definition.Checks ?? (definition.Check === undefined ? [] : [definition.Check]);
    const checks = definitions.map((check, i) =>
      this.#check(check, id, definitions.length === 1 && definition.Checks === undefined ? `service:${id}` : `service:${id}:${i + 1}`, now),
    );
    const service: FakeService = {
      id,
      name: definition.Name,
      tags: [...(definition.Tags ?? [])],
      address: definition.Address ?? '',
      port: definition.Port ?? 0,
      meta: { ...(definition.Meta ?? {}) },
      checks,
    };
    const previous = this.services.get(id);
    this.services.set(id, service);
    if (previous !== undefined && previous.name !== service.name) this.touch(previous.name);
    this.touch(service.name);
    return service;
  }

  #check(definition: CheckDefinition, serviceId: string, defaultId: string, now: number): FakeCheck {
    const ttlMs = optionalDuration(definition.TTL);
    const intervalMs = optionalDuration(definition.Interval);
    if (ttlMs === undefined && (definition.HTTP === undefined || intervalMs === undefined)) {
      throw new AgentError(400, 'Invalid check: TTL, or HTTP and Interval, must be specified');
    }
    const status = (definition.Status ?? 'critical') as CheckStatus;
    if (!['passing', 'warning', 'critical'].includes(status)) throw new AgentError(400, `Invalid check status "${status}"`);
    const deregisterAfter = optionalDuration(definition.DeregisterCriticalServiceAfter);
    return {
      id: definition.CheckID || defaultId,
      name: definition.Name || `Service '${serviceId}' check`,
      serviceId,
      kind: ttlMs === undefined ? 'http' : 'ttl',
      status,
      output: '',
      criticalSince: status === 'critical' ? now : undefined,
      ttlExpiresAt: ttlMs === undefined ? undefined : now + ttlMs,
      ttlMs,
      http: definition.HTTP,
      method: definition.Method ?? 'GET',
      intervalMs,
      // https://developer.hashicorp.com/consul/docs/services/usage/checks: HTTP checks time out after 10 s by default.
      timeoutMs: optionalDuration(definition.Timeout) ?? 10_000,
      deregisterCriticalAfterMs:
        deregisterAfter === undefined ? undefined : Math.max(deregisterAfter, this.options.minDeregisterCriticalAfterMs),
    };
  }

  /** https://developer.hashicorp.com/consul/api-docs/agent/service#deregister-service: unknown IDs are a 404. */
  deregister(id: string): FakeService {
    const service = this.services.get(id);
    if (service === undefined) throw new AgentError(404, `Unknown service ID "${id}". Ensure that the service ID is passed, not the service name.`);
    this.services.delete(id);
    this.touch(service.name);
    return service;
  }

  findCheck(checkId: string): FakeCheck {
    for (const service of this.services.values()) {
      const check = service.checks.find((c) => c.id === checkId);
      if (check !== undefined) return check;
    }
    throw new AgentError(404, `Unknown check ID "${checkId}". Ensure that the check ID is passed, not the check name.`);
  }

  /**
   * https://developer.hashicorp.com/consul/api-docs/agent/check#ttl-check-pass (and warn,
   * fail, update): sets a TTL check's status and restarts its TTL.
   */
  updateTtl(checkId: string, status: CheckStatus, output: string, now: number): void {
    const check = this.findCheck(checkId);
    if (check.kind !== 'ttl' || check.ttlMs === undefined) throw new AgentError(500, `CheckID "${checkId}" does not have associated TTL`);
    check.ttlExpiresAt = now + check.ttlMs;
    this.setStatus(check, status, output, now);
  }

  setStatus(check: FakeCheck, status: CheckStatus, output: string, now: number): void {
    check.output = output;
    if (check.status === status) return;
    check.status = status;
    check.criticalSince = status === 'critical' ? now : undefined;
    const service = this.services.get(check.serviceId);
    if (service !== undefined) this.touch(service.name);
  }

  /** A TTL check not updated within its TTL turns critical. */
  expireTtls(now: number): void {
    for (const service of this.services.values()) {
      for (const check of service.checks) {
        if (check.ttlExpiresAt !== undefined && check.ttlExpiresAt <= now && check.status !== 'critical') {
          this.setStatus(check, 'critical', 'TTL expired', now);
        }
      }
    }
  }

  /**
   * https://developer.hashicorp.com/consul/docs/services/usage/checks (DeregisterCriticalServiceAfter):
   * a service whose check has been critical for longer than the timeout is deregistered by
   * the reaper, which runs every 30 s, so removal can take up to that much longer.
   */
  reap(now: number): FakeService[] {
    const reaped: FakeService[] = [];
    for (const service of [...this.services.values()]) {
      const expired = service.checks.some(
        (c) => c.deregisterCriticalAfterMs !== undefined && c.criticalSince !== undefined && now - c.criticalSince >= c.deregisterCriticalAfterMs,
      );
      if (expired) reaped.push(this.deregister(service.id));
    }
    return reaped;
  }

  /** Forgets every registration, as an agent restarted without its data directory does. */
  forgetAll(): void {
    const names = new Set([...this.services.values()].map((s) => s.name));
    this.services.clear();
    for (const name of names) this.touch(name);
  }

  /**
   * https://developer.hashicorp.com/consul/api-docs/health#list-service-instances-for-service
   * `passing` keeps only instances whose checks (the node's included) all pass.
   */
  healthEntries(name: string, passingOnly: boolean): FakeService[] {
    return [...this.services.values()].filter((s) => s.name === name && (!passingOnly || s.checks.every((c) => c.status === 'passing')));
  }

  indexOf(name: string): number {
    return this.#serviceIndex.get(name) ?? this.#index;
  }

  /** Records a change to a service name and wakes the blocking queries. */
  touch(name: string): void {
    this.#index += 1;
    this.#serviceIndex.set(name, this.#index);
    this.#wake();
  }

  /** Test control: the index of a service goes back (a snapshot restore does this to real Consul), or to 0. */
  setIndex(name: string, index: number): void {
    this.#serviceIndex.set(name, index);
    this.#wake();
  }

  /**
   * https://developer.hashicorp.com/consul/api-docs/features/blocking
   * Resolves once the service's index is greater than `index`, or after `waitMs`. An index
   * that went backwards (or is 0) is not greater: the query waits out `wait` and then
   * answers with it, which is why clients must reset.
   */
  waitForChange(name: string, index: number, waitMs: number, signal: AbortSignal): Promise<void> {
    if (this.indexOf(name) > index) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.#waiters.delete(check);
        signal.removeEventListener('abort', done);
        resolve();
      };
      const check = (): void => {
        if (this.indexOf(name) > index) done();
      };
      const timer = setTimeout(done, waitMs);
      this.#waiters.add(check);
      signal.addEventListener('abort', done, { once: true });
    });
  }

  #wake(): void {
    for (const waiter of [...this.#waiters]) waiter();
  }
}
