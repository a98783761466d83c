import { setting } from '@plinth/core';

/** Settings of one RabbitMQ instance, read from `{APP}_{PREFIX}_{SETTING}`. */
export const rabbitmqSettings = {
  url: setting.url({
    doc: 'Broker URL (amqp://user:password@host:5672/vhost); overrides HOST, PORT, USER, PASSWORD and VHOST. Neither URL nor HOST set: the in-process broker (see EMBEDDED)',
    protocols: ['amqp:', 'amqps:'],
    sensitive: true,
  }),
  host: setting.string({ doc: 'Broker host. Neither URL nor HOST set: the in-process broker (see EMBEDDED)' }),
  port: setting.port({ doc: 'Broker port (default 5672, or 5671 with TLS)' }),
  user: setting.string({ doc: 'User name', default: 'guest' }),
  password: setting.string({ doc: 'Password (default guest)', sensitive: true }),
  vhost: setting.string({ doc: 'Virtual host', default: '/' }),
  tls: setting.boolean({ doc: 'Connect with TLS (amqps)', default: false }),
  heartbeat: setting.duration({
    doc: 'Heartbeat interval asked of the broker (ms or with a unit; sent in whole seconds; 0 disables)',
    default: 30_000,
  }),
  connectTimeout: setting.duration({ doc: 'Timeout of one connection attempt (ms)', default: 10_000 }),
  prefetch: setting.positiveInt({ doc: 'Default number of unacknowledged messages per subscription', default: 10 }),
  publishTimeout: setting.duration({
    doc: 'How long a publish may wait for the broker to confirm it, reconnection included, before it rejects (ms)',
    default: 3_000,
  }),
  reconnectDelay: setting.duration({ doc: 'First delay before reconnecting after a lost connection (ms); doubles per attempt, with jitter', default: 100 }),
  reconnectMaxDelay: setting.duration({
    doc: 'Longest delay between reconnect attempts (ms): how late, at most, a returning broker is noticed',
    default: 2_000,
  }),
} as const;

export type RabbitMqSettingsSchema = typeof rabbitmqSettings;
