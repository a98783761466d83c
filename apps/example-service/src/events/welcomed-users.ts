import { Service, InjectPlugin } from '@plinth/core';
import type { PostgresPlugin, PostgresTransaction } from '@plinth/plugin-postgres';
import { count } from 'drizzle-orm';
import { welcomedUsers, type schema } from '../schema.js';

/** The effect of `user.created`: a welcome recorded per user. */
@Service()
export class WelcomedUsers {
  constructor(@InjectPlugin('primary_db') private readonly postgres: PostgresPlugin<typeof schema>) {}

  /** Records the welcome in the consumer's transaction (the one that also records the message id). */
  async record(tx: PostgresTransaction<typeof schema>, userId: number, messageId: string): Promise<void> {
    await tx.insert(welcomedUsers).values({ userId, messageId });
  }

  async count(): Promise<number> {
    const [row] = await this.postgres.db.select({ value: count() }).from(welcomedUsers);
    return row?.value ?? 0;
  }
}
