import { Service, InjectPlugin } from '@plinth/core';
import type { PostgresPlugin, PostgresTransaction } from '@plinth/plugin-postgres';
import { count, eq } from 'drizzle-orm';
import { users, type schema } from '../schema.js';
import { toView, type UserView } from './user-view.js';

/** Users in `primary_db`. */
@Service()
export class UserRepository {
  constructor(@InjectPlugin('primary_db') private readonly postgres: PostgresPlugin<typeof schema>) {}

  /** Runs `fn` in one transaction of `primary_db`. */
  transaction<T>(fn: (tx: PostgresTransaction<typeof schema>) => Promise<T>): Promise<T> {
    return this.postgres.transaction(fn);
  }

  /** The new user, or `undefined` when the email is taken; in `tx` when given. */
  async create(name: string, email: string, tx?: PostgresTransaction<typeof schema>): Promise<UserView | undefined> {
    const [created] = await (tx ?? this.postgres.db)
      .insert(users)
      .values({ name, email })
      .onConflictDoNothing({ target: users.email })
      .returning();
    return created ? toView(created) : undefined;
  }

  async findById(id: number): Promise<UserView | undefined> {
    const [found] = await this.postgres.db.select().from(users).where(eq(users.id, id));
    return found ? toView(found) : undefined;
  }

  async count(): Promise<number> {
    const [row] = await this.postgres.db.select({ value: count() }).from(users);
    return row?.value ?? 0;
  }
}
