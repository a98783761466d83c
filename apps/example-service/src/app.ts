import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { createApp, type AppOptions } from '@plinth/core';
import { apiKeys, requestIds } from '@plinth/core/handlers';
import { outbox } from '@plinth/outbox';
import { consul } from '@plinth/plugin-consul';
import { postgres } from '@plinth/plugin-postgres';
import { rabbitmq } from '@plinth/plugin-rabbitmq';
import { redis } from '@plinth/plugin-redis';
import { sentry } from '@plinth/plugin-sentry';
import { UserCreatedConsumer } from './events/user-created-consumer.js';
import { eventsTopology, USERS_EXCHANGE, UserEvents } from './events/user-events.js';
import { WelcomedUsers } from './events/welcomed-users.js';
import { HttpApi } from './http/http-api.js';
import { schema } from './schema.js';
import { exampleSettings } from './settings.js';
import { UserRepository } from './users/user-repository.js';
import { UserService } from './users/user-service.js';

const { version } = createRequire(import.meta.url)('../package.json') as { version: string };
const migrations = fileURLToPath(new URL('../drizzle', import.meta.url));
/** Where PGlite keeps its data when no PostgreSQL is configured (gitignored). */
const embeddedDataDir = fileURLToPath(new URL('../.data/primary_db', import.meta.url));

/**
 * The example service: users in PostgreSQL, cached in Redis, announced on RabbitMQ
 * through the `user_events` outbox. The broker is not critical: requests never wait on
 * it, and events wait in the outbox while it is away.
 * Its failures go to Sentry. With no env at all every plugin runs embedded (PGlite, memory
 * cache, in-process broker) and error reporting is off (no EXAMPLE_SERVICE_ERROR_TRACKING_DSN).
 */
export function createExampleApp(options: Pick<AppOptions, 'env'> = {}) {
  return createApp({ ...exampleAppOptions(), ...options });
}

/** What `createExampleApp` declares, for tests that start it with overrides. */
export function exampleAppOptions() {
  return {
    name: 'example-service',
    version,
    settings: exampleSettings,
    plugins: [
      sentry('error_tracking'),
      postgres('primary_db', { schema, migrations, settings: { dataDir: embeddedDataDir } }),
      // Optional: EXAMPLE_SERVICE_SESSION_CACHE_ENABLED=false runs it as a cache that always misses.
      redis('session_cache', { optional: true }),
      rabbitmq('events', { topology: eventsTopology, critical: false }),
      outbox('user_events', { db: 'primary_db', broker: 'events', exchange: USERS_EXCHANGE }),
      // Registers this service once ready; in-process registry unless EXAMPLE_SERVICE_SERVICE_REGISTRY_URL is set.
      consul('service_registry'),
      // Every request gets an x-request-id, echoed and in each of its log lines.
      requestIds('request_ids'),
      // Off until EXAMPLE_SERVICE_API_KEYS_ENABLED=true (with EXAMPLE_SERVICE_API_KEYS_KEYS).
      apiKeys('api_keys', { optional: true, enabled: false }),
    ],
    services: [HttpApi, UserService, UserRepository, UserEvents, WelcomedUsers, UserCreatedConsumer],
  } satisfies AppOptions<typeof exampleSettings>;
}

/** The drizzle-kit migrations folder. */
export const migrationsFolder = migrations;
