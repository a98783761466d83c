import type { Resolution, ServiceInstance } from './instance.js';

export type WatchListener = (instances: readonly ServiceInstance[]) => void;

/** Where instances come from: a Consul agent, or the embedded in-process registry. */
export interface Discovery {
  /** The instances of `service`, from the cache when it has them. */
  lookup(service: string, signal: AbortSignal): Promise<Resolution>;
  /** Calls `listener` with each new list of `service`; returns the unsubscribe. */
  subscribe(service: string, listener: WatchListener): () => void;
  close(): void;
}
