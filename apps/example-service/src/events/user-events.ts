import { InjectPlugin, Service } from '@plinth/core';
import type { OutboxPlugin, SqlExecutor } from '@plinth/outbox';
import type { TopologyDeclaration } from '@plinth/plugin-rabbitmq';
import type { UserView } from '../users/user-view.js';

export const USERS_EXCHANGE = 'example.users';
export const USER_CREATED = 'user.created';
export const USER_CREATED_QUEUE = 'example-service.user-created';

/** Declared by the `events` plugin on connect and after every reconnect. */
export const eventsTopology: TopologyDeclaration = {
  exchanges: [{ name: USERS_EXCHANGE, type: 'topic' }],
  queues: [{ name: USER_CREATED_QUEUE, bindings: [{ exchange: USERS_EXCHANGE, routingKey: USER_CREATED }] }],
};

export interface UserCreated {
  readonly userId: number;
  readonly email: string;
}

export function isUserCreated(payload: unknown): payload is UserCreated {
  const event = payload as Partial<UserCreated> | null;
  return typeof event === 'object' && event !== null && Number.isSafeInteger(event.userId) && typeof event.email === 'string';
}

/** Writes user events to the outbox, in the transaction that writes the user. */
@Service()
export class UserEvents {
  constructor(@InjectPlugin('user_events') private readonly outbox: OutboxPlugin) {}

  /** Published by the relay once `tx` commits; never waits on the broker. */
  async userCreated(tx: SqlExecutor, user: UserView): Promise<void> {
    const event: UserCreated = { userId: user.id, email: user.email };
    await this.outbox.add(tx, USER_CREATED, event, { key: `user:${user.id}` });
  }
}
