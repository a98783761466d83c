import { Service, InjectPlugin } from '@plinth/core';
import type { RabbitMqPlugin, TopologyDeclaration } from '@plinth/plugin-rabbitmq';
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

/** Publishes user events; resolves only once the broker has confirmed them. */
@Service()
export class UserEvents {
  constructor(@InjectPlugin('events') private readonly events: RabbitMqPlugin) {}

  async userCreated(user: UserView): Promise<void> {
    const event: UserCreated = { userId: user.id, email: user.email };
    // The id makes a retried publish of the same user count once downstream.
    await this.events.publish(USERS_EXCHANGE, USER_CREATED, event, { messageId: `user-created:${user.id}` });
  }
}
