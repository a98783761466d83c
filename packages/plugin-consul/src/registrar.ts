import { statusCodeOf, type CheckStatus, type ConsulClient, type ServiceRegistration } from './consul-client.js';
import type { EmbeddedRegistry } from './embedded-registry.js';

/** Where this instance registers: a Consul agent or the embedded registry. */
export interface Registrar {
  register(registration: ServiceRegistration, signal: AbortSignal): Promise<void>;
  /** TTL checks: reports the status; `forgotten` when the agent no longer knows the check. */
  report(registration: ServiceRegistration, status: CheckStatus, note: string, signal: AbortSignal): Promise<'ok' | 'forgotten'>;
  /** Anti-entropy: does the agent still hold the registration? */
  isRegistered(registration: ServiceRegistration, signal: AbortSignal): Promise<boolean>;
  deregister(id: string, signal: AbortSignal): Promise<void>;
}

/**
 * Against a Consul agent. https://developer.hashicorp.com/consul/api-docs/agent/check#ttl-check-pass:
 * a TTL update for a check the agent does not know is answered 404 (500 before Consul 1.11,
 * with "Unknown check ID" / "does not have associated TTL").
 */
export function consulRegistrar(client: ConsulClient, timeoutMs: number): Registrar {
  return {
    register: (registration, signal) => client.register(registration, signal, timeoutMs),
    async report(registration, status, note, signal) {
      try {
        await client.reportTtl(registration.check.checkid, status, note, signal, timeoutMs);
        return 'ok';
      } catch (error) {
        const code = statusCodeOf(error);
        if (code === 404 || (code === 500 && /unknown check|does not have associated ttl/i.test(String((error as Error).message)))) return 'forgotten';
        throw error;
      }
    },
    isRegistered: async (registration, signal) => (await client.agentServiceIds(signal, timeoutMs)).includes(registration.id),
    async deregister(id, signal) {
      try {
        await client.deregister(id, signal, timeoutMs);
      } catch (error) {
        // Already gone (reaped, or the agent restarted): that is what we wanted.
        if (statusCodeOf(error) !== 404) throw error;
      }
    },
  };
}

/** Against the embedded registry: `warning` stays listed, `critical` is taken out. */
export function embeddedRegistrar(registry: EmbeddedRegistry): Registrar {
  const put = (registration: ServiceRegistration, status: CheckStatus): void => {
    if (status === 'critical') {
      registry.remove(registration.id);
      return;
    }
    const { id, name: service, address, port, tags, meta } = registration;
    registry.put({ id, service, address, port, tags, meta, status });
  };
  return {
    register: async (registration) => put(registration, registration.check.status),
    report: async (registration, status) => (put(registration, status), 'ok'),
    isRegistered: async () => true,
    deregister: async (id) => void registry.remove(id),
  };
}
