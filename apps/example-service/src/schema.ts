import { integer, pgTable, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';

export const users = pgTable(
  'users',
  {
    id: integer('id').primaryKey().generatedAlwaysAsIdentity(),
    name: text('name').notNull(),
    email: text('email').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [uniqueIndex('users_email_unique').on(table.email)],
);

/**
 * What the `user.created` consumer does: one row per handled event. No unique key on
 * purpose: the outbox's `processedOnce` is what keeps a redelivery from adding a second.
 */
export const welcomedUsers = pgTable('welcomed_users', {
  id: integer('id').primaryKey().generatedAlwaysAsIdentity(),
  userId: integer('user_id').notNull(),
  messageId: text('message_id').notNull(),
  welcomedAt: timestamp('welcomed_at', { withTimezone: true }).notNull().defaultNow(),
});

export type User = typeof users.$inferSelect;
export const schema = { users, welcomedUsers };
