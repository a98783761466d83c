// Compiled by `npm run lint` (tsc --noEmit), never run: each `@ts-expect-error` line must
// fail to compile, or tsc reports the directive as unused. The registry is the one
// src/plugin-registry.ts declares for the example's plugins.
import { InjectPlugin, Service, type App } from '@plinth/core';
import type { PostgresPlugin } from '@plinth/plugin-postgres';
import type { RabbitMqPlugin } from '@plinth/plugin-rabbitmq';
import type { RedisPlugin } from '@plinth/plugin-redis';
import type { schema } from '../../src/schema.js';

@Service()
export class RightPlugins {
  constructor(
    @InjectPlugin('primary_db') readonly db: PostgresPlugin<typeof schema>,
    @InjectPlugin('session_cache') readonly cache: RedisPlugin,
    @InjectPlugin('events') readonly events: RabbitMqPlugin,
    @InjectPlugin('session_cache') readonly anyPlugin: object,
  ) {}
}

@Service()
export class MisspeltPrefix {
  // @ts-expect-error 'primry_db' is not a prefix of the registry
  constructor(@InjectPlugin('primry_db') readonly db: PostgresPlugin<typeof schema>) {}
}

@Service()
export class WrongPluginClass {
  constructor(
    @InjectPlugin('primary_db') readonly db: PostgresPlugin<typeof schema>,
    // @ts-expect-error the registry says primary_db is a PostgresPlugin, not a RedisPlugin
    @InjectPlugin('primary_db') readonly cache: RedisPlugin,
  ) {}
}

@Service()
export class WrongPluginAtFirstParameter {
  // @ts-expect-error the registry says events is a RabbitMqPlugin
  constructor(@InjectPlugin('events') readonly db: PostgresPlugin<typeof schema>) {}
}

export function lookups(app: App): void {
  const db: PostgresPlugin<typeof schema> = app.plugin('primary_db');
  // @ts-expect-error 'primry_db' is not a prefix of the registry
  app.plugin('primry_db');
  // @ts-expect-error app.plugin('session_cache') is a RedisPlugin
  const wrong: PostgresPlugin<typeof schema> = app.plugin('session_cache');
  void db;
  void wrong;
}
