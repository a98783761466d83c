import type { Discovery, WatchListener } from './discovery.js';
import { sameInstances, type Resolution, type ServiceInstance } from './instance.js';

/**
 * The registry used with no Consul configured: this app's own registration plus the
 * instances listed in `STATIC`, all in process. Lookups are never stale.
 */
export class EmbeddedRegistry implements Discovery {
  readonly #instances = new Map<string, ServiceInstance>();
  readonly #listeners = new Map<string, Set<WatchListener>>();

  constructor(staticInstances: readonly ServiceInstance[]) {
    for (const instance of staticInstances) this.#instances.set(instance.id, instance);
  }

  put(instance: ServiceInstance): void {
    this.#change(instance.service, () => this.#instances.set(instance.id, instance));
  }

  remove(id: string): boolean {
    const instance = this.#instances.get(id);
    if (instance === undefined) return false;
    this.#change(instance.service, () => this.#instances.delete(id));
    return true;
  }

  has(id: string): boolean {
    return this.#instances.has(id);
  }

  async lookup(service: string, signal: AbortSignal): Promise<Resolution> {
    signal.throwIfAborted();
    return { instances: this.#list(service), updatedAt: Date.now(), stale: false, ageMs: 0 };
  }

  subscribe(service: string, listener: WatchListener): () => void {
    let listeners = this.#listeners.get(service);
    if (listeners === undefined) this.#listeners.set(service, (listeners = new Set()));
    listeners.add(listener);
    listener(this.#list(service));
    return () => listeners.delete(listener);
  }

  close(): void {
    this.#listeners.clear();
  }

  #list(service: string): ServiceInstance[] {
    return [...this.#instances.values()].filter((instance) => instance.service === service);
  }

  #change(service: string, apply: () => void): void {
    const before = this.#list(service);
    apply();
    const after = this.#list(service);
    if (sameInstances(before, after)) return;
    for (const listener of this.#listeners.get(service) ?? []) listener(after);
  }
}

/**
 * Parses `STATIC`: `name=host:port,name=host:port` (IPv6 hosts in brackets). Returns the
 * instances, or a message saying what is wrong.
 */
export function parseStaticInstances(text: string | undefined): ServiceInstance[] | string {
  const instances: ServiceInstance[] = [];
  for (const [i, raw] of (text ?? '').split(',').map((part) => part.trim()).filter(Boolean).entries()) {
    const match = /^([^=\s]+)=(\[[^\]]+\]|[^:\s]+):(\d{1,5})$/.exec(raw);
    const port = Number(match?.[3]);
    if (!match || port < 1 || port > 65535) return `"${raw}" is not name=host:port`;
    const [, service, host] = match as unknown as [string, string, string];
    instances.push({ id: `static-${service}-${i}`, service, address: host.replace(/^\[(.*)\]$/, '$1'), port, tags: [], meta: {}, status: 'passing' });
  }
  return instances;
}
