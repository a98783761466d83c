import { EventEmitter } from 'node:events';
import type Consul from 'consul';

/** What the agent answers for one instance in `/v1/health/service/:name`. */
export interface HealthEntry {
  readonly Node?: { readonly Address?: string };
  readonly Service: {
    readonly ID: string;
    readonly Service: string;
    readonly Tags?: readonly string[] | null;
    readonly Address?: string;
    readonly Port: number;
    readonly Meta?: Readonly<Record<string, string>> | null;
  };
  readonly Checks?: readonly { readonly Status: string }[];
}

/** A check as the `consul` client takes it: lowercase keys (PascalCase ones are not sent). */
export interface CheckRegistration {
  readonly name: string;
  readonly checkid: string;
  readonly ttl?: string;
  readonly http?: string;
  readonly interval?: string;
  readonly timeout: string;
  readonly status: 'passing' | 'warning' | 'critical';
  readonly deregistercriticalserviceafter: string;
}

export interface ServiceRegistration {
  readonly id: string;
  readonly name: string;
  readonly address: string;
  readonly port: number;
  readonly tags: readonly string[];
  readonly meta: Readonly<Record<string, string>>;
  readonly check: CheckRegistration;
}

export type CheckStatus = CheckRegistration['status'];

/** An answer of the agent that was not 2xx. */
export function statusCodeOf(error: unknown): number | undefined {
  const code = (error as { statusCode?: unknown } | null)?.statusCode;
  return typeof code === 'number' ? code : undefined;
}

/** Consul durations are Go durations; milliseconds are exact. */
export function goDuration(ms: number): string {
  return `${Math.max(1, Math.round(ms))}ms`;
}

/**
 * The `consul` client behind an AbortSignal: every call takes one, and each request is
 * also bounded by its own timeout. The client cancels through an EventEmitter `ctx`
 * that emits `cancel`; that is bridged here. The `consul` package is loaded on the first
 * call: an app that declares the plugin but runs on the embedded registry never loads it.
 */
export class ConsulClient {
  readonly #options: ConstructorParameters<typeof Consul>[0];
  #consul: Promise<Consul> | undefined;

  constructor(url: string, token: string | undefined) {
    const base = new URL(url);
    this.#options = {
      baseUrl: `${base.origin}${base.pathname.replace(/\/$/, '')}/v1`,
      ...(base.username ? { headers: { authorization: `Basic ${Buffer.from(`${decodeURIComponent(base.username)}:${decodeURIComponent(base.password)}`).toString('base64')}` } } : {}),
      defaults: token ? { token } : {},
    } as ConstructorParameters<typeof Consul>[0];
  }

  leader(signal: AbortSignal, timeoutMs: number): Promise<unknown> {
    return this.#call(signal, (consul, ctx) => consul.status.leader({ ctx, timeout: timeoutMs } as object));
  }

  register(registration: ServiceRegistration, signal: AbortSignal, timeoutMs: number): Promise<void> {
    const { check, ...service } = registration;
    return this.#call(signal, (consul, ctx) =>
      consul.agent.service.register({ ...service, tags: [...service.tags], meta: { ...service.meta }, check: { ...check }, ctx, timeout: timeoutMs } as never),
    );
  }

  deregister(id: string, signal: AbortSignal, timeoutMs: number): Promise<void> {
    return this.#call(signal, (consul, ctx) => consul.agent.service.deregister({ id, ctx, timeout: timeoutMs } as never));
  }

  /** https://developer.hashicorp.com/consul/api-docs/agent/check#ttl-check-pass (warn, fail). */
  reportTtl(checkId: string, status: CheckStatus, note: string, signal: AbortSignal, timeoutMs: number): Promise<void> {
    const options = { id: checkId, note };
    return this.#call(signal, (consul, ctx) => {
      const check = consul.agent.check;
      const call = { ...options, ctx, timeout: timeoutMs } as never;
      return status === 'passing' ? check.pass(call) : status === 'warning' ? check.warn(call) : check.fail(call);
    });
  }

  /** IDs of the services the agent holds. */
  async agentServiceIds(signal: AbortSignal, timeoutMs: number): Promise<string[]> {
    const list = (await this.#call(signal, (consul, ctx) => consul.agent.service.list({ ctx, timeout: timeoutMs } as never))) as Record<string, unknown>;
    return Object.keys(list ?? {});
  }

  /**
   * One (blocking, when `index` > 0) query of a service's instances with their checks.
   * https://developer.hashicorp.com/consul/api-docs/health#list-service-instances-for-service
   */
  async health(service: string, index: number, waitMs: number, signal: AbortSignal, timeoutMs: number): Promise<{ entries: HealthEntry[]; index: number | undefined }> {
    const blocking = index > 0 ? { index: String(index), wait: goDuration(waitMs) } : {};
    const [response, body] = (await this.#call(
      signal,
      (consul, ctx) => consul.health.service({ service, ...blocking, ctx, timeout: timeoutMs } as never),
      true,
    )) as [{ headers: Record<string, string | undefined> }, HealthEntry[] | undefined];
    const header = response.headers['x-consul-index'];
    const parsed = header === undefined ? undefined : Number(header);
    return { entries: body ?? [], index: parsed !== undefined && Number.isSafeInteger(parsed) && parsed >= 0 ? parsed : undefined };
  }

  /** Closes the keep-alive sockets (blocking queries in flight end with them). */
  destroy(): void {
    void this.#consul?.then(
      (consul) => consul.destroy(),
      () => undefined,
    );
  }

  #load(): Promise<Consul> {
    this.#consul ??= import('consul').then(({ default: Consul }) => new Consul(this.#options));
    return this.#consul;
  }

  async #call<T>(signal: AbortSignal, run: (consul: Consul, ctx: EventEmitter) => Promise<T>, includeResponse = false): Promise<T> {
    signal.throwIfAborted();
    const consul = await this.#load();
    signal.throwIfAborted();
    const ctx = Object.assign(new EventEmitter(), { includeResponse });
    const cancel = (): void => {
      ctx.emit('cancel');
    };
    signal.addEventListener('abort', cancel, { once: true });
    try {
      return await run(consul, ctx);
    } catch (error) {
      if (signal.aborted) throw signal.reason;
      throw error;
    } finally {
      signal.removeEventListener('abort', cancel);
    }
  }
}
