import type { PostgresPlugin } from '@plinth/plugin-postgres';
import type { RabbitMqPlugin } from '@plinth/plugin-rabbitmq';
import type { RedisPlugin } from '@plinth/plugin-redis';
import type { schema } from './schema.js';

// The plugins `createExampleApp` declares, by prefix: `@InjectPlugin('primary_db')` and
// `app.plugin('primary_db')` check the prefix, and the parameter's type, at compile time.
declare module '@plinth/core' {
  interface PluginRegistry {
    primary_db: PostgresPlugin<typeof schema>;
    session_cache: RedisPlugin;
    events: RabbitMqPlugin;
  }
}
