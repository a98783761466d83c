export { rabbitmq, RabbitMqPlugin, type RabbitMqSettings, type RabbitMqOptions } from './rabbitmq-plugin.js';
export { rabbitmqSettings } from './settings.js';
export type { RabbitMqStats } from './stats.js';
export type { Subscription, SubscribeOptions } from './subscription.js';
export {
  ATTEMPTS_HEADER,
  REJECTED_REASON_HEADER,
  type RejectedReason,
  type HandlerContext,
  type MessageHandler,
  type PublishOptions,
  type PublishReceipt,
  type ReceivedMessage,
} from './message.js';
export {
  deadLetterQueueName,
  retryQueueName,
  DEFAULT_DEAD_LETTER_EXCHANGE,
  type BindingDeclaration,
  type ExchangeDeclaration,
  type ExchangeType,
  type QueueDeclaration,
  type TopologyDeclaration,
} from './topology.js';
export {
  ExchangeNotFoundError,
  PublishAbortedError,
  PublishChannelError,
  PublishError,
  PublishNackedError,
  PublishTimeoutError,
  RabbitMqConfigError,
  UnroutableError,
  type PublishFailureReason,
} from './errors.js';
