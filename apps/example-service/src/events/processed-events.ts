import { Service, InjectPlugin } from '@plinth/core';
import type { PostgresPlugin } from '@plinth/plugin-postgres';
import { count } from 'drizzle-orm';
import { processedEvents, type schema } from '../schema.js';

/** Which events were already handled, so a redelivered message is counted once. */
@Service()
export class ProcessedEvents {
  constructor(@InjectPlugin('primary_db') private readonly postgres: PostgresPlugin<typeof schema>) {}

  /** True the first time this message id is seen. */
  async markProcessed(messageId: string): Promise<boolean> {
    const inserted = await this.postgres.db
      .insert(processedEvents)
      .values({ messageId })
      .onConflictDoNothing()
      .returning({ messageId: processedEvents.messageId });
    return inserted.length === 1;
  }

  async count(): Promise<number> {
    const [row] = await this.postgres.db.select({ value: count() }).from(processedEvents);
    return row?.value ?? 0;
  }
}
