import { Inject, InjectPlugin, Service } from '@plinth/core';
import type { RedisPlugin } from '@plinth/plugin-redis';
import { UserEvents } from '../events/user-events.js';
import { UserRepository } from './user-repository.js';
import type { UserView } from './user-view.js';

const CACHE_TTL_MS = 60_000;

export type CreateResult = { readonly created: UserView } | { readonly duplicate: true };

/** Creating and reading users: Postgres is the truth, Redis a cache, the outbox the news. */
@Service()
export class UserService {
  constructor(
    @Inject(UserRepository) private readonly users: UserRepository,
    @Inject(UserEvents) private readonly events: UserEvents,
    @InjectPlugin('session_cache') private readonly cache: RedisPlugin,
  ) {}

  /** The user and its `user.created` event commit together; the broker is not waited on. */
  async create(name: string, email: string): Promise<CreateResult> {
    return this.users.transaction(async (tx) => {
      const created = await this.users.create(name, email, tx);
      if (!created) return { duplicate: true };
      await this.events.userCreated(tx, created);
      return { created };
    });
  }

  /**
   * Cache-aside through `session_cache`: a Redis outage costs a database read, never an
   * error (`cacheAside` turns cache failures into misses).
   */
  async find(id: number): Promise<{ user: UserView | undefined; fromCache: boolean }> {
    let loaded = false;
    const user = await this.cache.cacheAside.getOrSet(
      `user:${id}`,
      () => {
        loaded = true;
        return this.users.findById(id);
      },
      { ttlMs: CACHE_TTL_MS },
    );
    return { user, fromCache: !loaded && user !== undefined };
  }
}
