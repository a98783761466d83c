import { InjectPlugin, Service } from '@plinth/core';
import { count, eq } from 'drizzle-orm';
import type { PostgresPlugin } from '../../src/index.js';
import { type analyticsSchema, pageViews, type primarySchema, users } from '../fixtures/schema.js';

/**
 * One service using two instances. The same class runs on PostgreSQL and on embedded
 * PGlite: nothing in it depends on the driver.
 */
@Service()
export class AccountService {
  constructor(
    @InjectPlugin('primary_db') readonly primary: PostgresPlugin<typeof primarySchema>,
    @InjectPlugin('analytics_db') readonly analytics: PostgresPlugin<typeof analyticsSchema>,
  ) {}

  async register(name: string, email: string): Promise<number> {
    const [created] = await this.primary.db.insert(users).values({ name, email }).returning({ id: users.id });
    await this.analytics.db.insert(pageViews).values({ path: `/users/${email}` });
    return created!.id;
  }

  /** Inserts both users in one transaction; the second insert fails when `failSecond`. */
  async registerPair(first: string, second: string, failSecond: boolean): Promise<void> {
    await this.primary.transaction(async (tx) => {
      await tx.insert(users).values({ name: first, email: `${first}@example.test` });
      if (failSecond) throw new Error('rollback requested');
      await tx.insert(users).values({ name: second, email: `${second}@example.test` });
    });
  }

  async findByEmail(email: string): Promise<{ id: number; name: string } | undefined> {
    return this.primary.db.query.users.findFirst({ where: eq(users.email, email), columns: { id: true, name: true } });
  }

  async userCount(): Promise<number> {
    const [row] = await this.primary.db.select({ n: count() }).from(users);
    return row!.n;
  }

  async viewCount(): Promise<number> {
    const [row] = await this.analytics.db.select({ n: count() }).from(pageViews);
    return row!.n;
  }
}
