export { consul } from './consul.js';
export { ConsulPlugin, checkStatusOf, type CallOptions } from './consul-plugin.js';
export { consulSettings } from './settings.js';
export { NoHealthyInstanceError } from './errors.js';
export type { Resolution, ServiceInstance } from './instance.js';
export type { WatchListener } from './discovery.js';
