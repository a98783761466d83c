import { Inject, InjectPlugin, Service, type OnStart, type OnStop } from '@plinth/core';
import type { RabbitMqPlugin, Subscription } from '@plinth/plugin-rabbitmq';
import { ProcessedEvents } from './processed-events.js';
import { USER_CREATED_QUEUE, type UserCreated } from './user-events.js';

/** Counts `user.created` events, once per message id. */
@Service()
export class UserCreatedConsumer implements OnStart, OnStop {
  #subscription: Subscription | undefined;

  constructor(
    @InjectPlugin('events') private readonly events: RabbitMqPlugin,
    @Inject(ProcessedEvents) private readonly processed: ProcessedEvents,
  ) {}

  async onStart(): Promise<void> {
    this.#subscription = this.events.subscribe<UserCreated>(
      USER_CREATED_QUEUE,
      async (message) => {
        await this.processed.markProcessed(message.id);
      },
      { maxAttempts: 5 },
    );
    await this.#subscription.ready;
  }

  /** Stops deliveries and waits for handlers in flight, while the database is still up. */
  async onStop(): Promise<void> {
    await this.#subscription?.cancel();
  }
}
