import type { ApiKeys, RequestIds } from '@plinth/core/handlers';
import type { OutboxPlugin } from '@plinth/outbox';
import type { ConsulPlugin } from '@plinth/plugin-consul';
import type { PostgresPlugin } from '@plinth/plugin-postgres';
import type { RabbitMqPlugin } from '@plinth/plugin-rabbitmq';
import type { RedisPlugin } from '@plinth/plugin-redis';
import type { SentryPlugin } from '@plinth/plugin-sentry';
import type { schema } from './schema.js';

// The plugins `createExampleApp` declares, by prefix: `@InjectPlugin('primary_db')` and
// `app.plugin('primary_db')` check the prefix, and the parameter's type, at compile time.
declare module '@plinth/core' {
  interface PluginRegistry {
    primary_db: PostgresPlugin<typeof schema>;
    session_cache: RedisPlugin;
    events: RabbitMqPlugin;
    user_events: OutboxPlugin;
    error_tracking: SentryPlugin;
    service_registry: ConsulPlugin;
    request_ids: RequestIds;
    api_keys: ApiKeys;
  }
}
