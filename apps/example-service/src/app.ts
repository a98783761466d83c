import { fileURLToPath } from 'node:url';
import { createApp, type AppOptions } from '@plinth/core';
import { postgres } from '@plinth/plugin-postgres';
import { rabbitmq } from '@plinth/plugin-rabbitmq';
import { redis } from '@plinth/plugin-redis';
import { ProcessedEvents } from './events/processed-events.js';
import { UserCreatedConsumer } from './events/user-created-consumer.js';
import { eventsTopology, UserEvents } from './events/user-events.js';
import { HttpApi } from './http/http-api.js';
import { schema } from './schema.js';
import { exampleSettings } from './settings.js';
import { UserRepository } from './users/user-repository.js';
import { UserService } from './users/user-service.js';

const migrations = fileURLToPath(new URL('../drizzle', import.meta.url));
/** Where PGlite keeps its data when no PostgreSQL is configured (gitignored). */
const embeddedDataDir = fileURLToPath(new URL('../.data/primary_db', import.meta.url));

/**
 * The example service: users in PostgreSQL, cached in Redis, announced on RabbitMQ.
 * With no env at all every plugin runs embedded (PGlite, memory cache, in-process broker).
 */
export function createExampleApp(options: Pick<AppOptions, 'env'> = {}) {
  return createApp({ ...exampleAppOptions(), ...options });
}

/** What `createExampleApp` declares, for tests that start it with overrides. */
export function exampleAppOptions() {
  return {
    name: 'example-service',
    settings: exampleSettings,
    plugins: [
      postgres('primary_db', { schema, migrations, config: { dataDir: embeddedDataDir } }),
      redis('session_cache'),
      rabbitmq('events', { topology: eventsTopology }),
    ],
    services: [HttpApi, UserService, UserRepository, UserEvents, ProcessedEvents, UserCreatedConsumer],
  } satisfies AppOptions<typeof exampleSettings>;
}

/** The drizzle-kit migrations folder. */
export const migrationsFolder = migrations;
