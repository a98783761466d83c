import { Inject, InjectPlugin, Service, type OnStart, type OnStop } from '@plinth/core';
import type { OutboxPlugin } from '@plinth/outbox';
import type { RabbitMqPlugin, Subscription } from '@plinth/plugin-rabbitmq';
import type { schema } from '../schema.js';
import { isUserCreated, USER_CREATED_QUEUE, type UserCreated } from './user-events.js';
import { WelcomedUsers } from './welcomed-users.js';

/**
 * Welcomes each new user once. The welcome and the message id commit together
 * (`processedOnce`), so a redelivered event changes nothing; a lost database pauses the
 * consumer instead of burning attempts; a malformed event goes to the dead-letter queue.
 */
@Service()
export class UserCreatedConsumer implements OnStart, OnStop {
  #subscription: Subscription | undefined;

  constructor(
    @InjectPlugin('events') private readonly events: RabbitMqPlugin,
    @InjectPlugin('user_events') private readonly outbox: OutboxPlugin,
    @Inject(WelcomedUsers) private readonly welcomed: WelcomedUsers,
  ) {}

  async onStart(): Promise<void> {
    this.#subscription = this.events.subscribe<UserCreated>(
      USER_CREATED_QUEUE,
      async (message) => {
        await this.outbox.processedOnce<void, typeof schema>(message, (tx) => this.welcomed.record(tx, message.body.userId, message.id));
      },
      { maxAttempts: 5, validate: isUserCreated },
    );
  }

  /** Stops deliveries and waits for handlers in flight, while the database is still up. */
  async onStop(): Promise<void> {
    await this.#subscription?.cancel();
  }
}
