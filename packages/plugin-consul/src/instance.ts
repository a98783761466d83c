import type { HealthEntry } from './consul-client.js';

/** One instance of a service that can take requests. */
export interface ServiceInstance {
  readonly id: string;
  readonly service: string;
  readonly address: string;
  readonly port: number;
  readonly tags: readonly string[];
  readonly meta: Readonly<Record<string, string>>;
  /** `warning`: up but degraded (its app reports a non-critical dependency down). */
  readonly status: 'passing' | 'warning';
}

/** What `lookup` answers: the instances and how fresh they are. */
export interface Resolution {
  readonly instances: readonly ServiceInstance[];
  /** `Date.now()` when Consul last confirmed this list. */
  readonly updatedAt: number;
  /** True while the agent cannot be reached and the list is the last one known. */
  readonly stale: boolean;
  /** ms since Consul last confirmed the list; 0 while the watch is live. */
  readonly ageMs: number;
}

/**
 * Instances with no critical check, passing ones first. Consul's `?passing` would also
 * drop `warning` instances, so one shared non-critical outage (every replica degraded)
 * would empty the list; Consul's DNS interface keeps them too.
 * https://developer.hashicorp.com/consul/api-docs/health#list-service-instances-for-service
 */
export function healthyInstances(entries: readonly HealthEntry[]): ServiceInstance[] {
  const instances: ServiceInstance[] = [];
  for (const entry of entries) {
    const statuses = (entry.Checks ?? []).map((check) => check.Status);
    if (statuses.some((status) => status !== 'passing' && status !== 'warning')) continue;
    const { Service: service } = entry;
    instances.push({
      id: service.ID,
      service: service.Service,
      // An empty service address means "the node's address" in Consul's catalog.
      address: service.Address || entry.Node?.Address || '',
      port: service.Port,
      tags: [...(service.Tags ?? [])],
      meta: { ...(service.Meta ?? {}) },
      status: statuses.includes('warning') ? 'warning' : 'passing',
    });
  }
  return instances.sort((a, b) => rank(a) - rank(b) || a.id.localeCompare(b.id));
}

const rank = (instance: ServiceInstance): number => (instance.status === 'passing' ? 0 : 1);

/** Same instances, same order, same fields: a watch listener is not called for a no-op. */
export function sameInstances(a: readonly ServiceInstance[], b: readonly ServiceInstance[]): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
