// Type-level tests, compiled by `npm run lint` with their own tsconfig (the registry they
// declare would otherwise apply to every test). Never run: each `@ts-expect-error` line
// must fail to compile, or tsc reports the directive as unused.
import { createApp, Inject, InjectPlugin, Service } from '@plinth/core';

class SqlPlugin {
  readonly #pool = 'pool';
  query(): string {
    return this.#pool;
  }
}

class CachePlugin {
  readonly #store = new Map<string, string>();
  get(key: string): string | undefined {
    return this.#store.get(key);
  }
}

declare module '@plinth/core' {
  interface PluginRegistry {
    primary_db: SqlPlugin;
    session_cache: CachePlugin;
  }
}

@Service()
export class Repository {
  constructor(
    @InjectPlugin('primary_db') readonly db: SqlPlugin,
    @InjectPlugin('session_cache') readonly cache: CachePlugin,
    // A wider type that accepts the plugin is fine.
    @InjectPlugin('session_cache') readonly any: object,
  ) {}
}

@Service()
export class MisspeltPrefix {
  // @ts-expect-error 'primry_db' is not a prefix of the registry
  constructor(@InjectPlugin('primry_db') readonly db: SqlPlugin) {}
}

@Service()
export class WrongPluginClass {
  constructor(
    @InjectPlugin('primary_db') readonly db: SqlPlugin,
    // @ts-expect-error the registry says primary_db is a SqlPlugin, not a CachePlugin
    @InjectPlugin('primary_db') readonly cache: CachePlugin,
  ) {}
}

@Service()
export class MixedDecorators {
  constructor(
    @Inject(Repository) readonly repository: Repository,
    // @ts-expect-error parameter 1 is checked against its own type, whatever comes before it
    @InjectPlugin('session_cache') readonly db: SqlPlugin,
  ) {}
}

export class NotOnMethods {
  // @ts-expect-error @InjectPlugin is for constructor parameters only
  handle(@InjectPlugin('primary_db') db: SqlPlugin): SqlPlugin {
    return db;
  }
}

const app = createApp({ name: 'svc' });
export const db: SqlPlugin = app.plugin('primary_db');
// @ts-expect-error 'primry_db' is not a prefix of the registry
app.plugin('primry_db');
// @ts-expect-error session_cache is a CachePlugin
export const wrong: SqlPlugin = app.plugin('session_cache');
