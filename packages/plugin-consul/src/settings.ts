import { setting } from '@plinth/core';

/**
 * Settings of one Consul instance, read from `{APP}_{PREFIX}_{SETTING}`. With no `URL`
 * the instance runs on the embedded in-process registry.
 */
export const consulSettings = {
  url: setting.url({
    doc: 'Consul agent HTTP API (http://127.0.0.1:8500, https:// for TLS); user and password in it become basic auth. Unset = embedded in-process registry',
    protocols: ['http:', 'https:'],
    sensitive: true,
  }),
  token: setting.string({ doc: 'ACL token sent as X-Consul-Token with every request', sensitive: true }),
  serviceName: setting.nonEmptyString({ doc: 'Name this app registers under; default: the app name' }),
  serviceId: setting.nonEmptyString({ doc: 'ID of this instance; default: <name>-<host>-<pid>-<random>, unique per process' }),
  address: setting.nonEmptyString({
    doc: 'Address registered for this instance; default: POD_IP when set, else the host the HTTP server listens on (a real interface when that is 0.0.0.0)',
  }),
  tags: setting.string({ doc: 'Comma-separated tags of this instance: "v2,canary"' }),
  meta: setting.string({ doc: 'Comma-separated key=value metadata of this instance: "version=1.4.2,zone=a"' }),
  check: setting.oneOf(['ttl', 'http'] as const, {
    doc: 'ttl: the plugin reports ready/degraded/not ready as passing/warning/critical; http: Consul polls <health path>/ready',
    default: 'ttl',
  }),
  checkInterval: setting.duration({ doc: 'TTL heartbeat / HTTP check interval, and how often the registration is re-asserted (ms)', default: 10_000 }),
  deregisterCriticalAfter: setting.duration({
    doc: 'Consul removes an instance whose check stays critical this long (a crashed process); Consul enforces at least 1 minute (ms)',
    default: 60_000,
  }),
  deregisterTimeout: setting.duration({ doc: 'Deadline of the deregistration at the start of shutdown (ms)', default: 1000 }),
  requestTimeout: setting.duration({ doc: 'Deadline of one non-blocking request to the agent (ms)', default: 2000 }),
  watchWait: setting.duration({ doc: 'How long one blocking query waits for a change before it is renewed (ms)', default: 60_000 }),
  static: setting.string({ doc: 'Embedded registry only: other instances, "name=host:port,name=host:port"' }),
} as const;
