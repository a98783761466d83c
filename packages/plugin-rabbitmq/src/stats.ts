/** Counters of one plugin instance since it was created. */
export interface RabbitMqStats {
  /** `publish` calls the broker confirmed. */
  confirmed: number;
  /** `publish` calls that rejected, whatever the reason. */
  rejected: number;
  /** Messages written again because their channel closed before the confirm (each may arrive twice). */
  resent: number;
  /** Deliveries that reached a consumer. */
  delivered: number;
  /** Deliveries whose handler succeeded (acked). */
  handled: number;
  /** Handler failures answered with a retry copy. */
  retried: number;
  /** Messages sent to the dead-letter exchange. */
  deadLettered: number;
  /** Deliveries returned to the queue unsettled (shutdown, failed re-publish, paused consumer). */
  requeued: number;
  /** Times a consumer paused because its handler reported a dependency unavailable. */
  paused: number;
  /** Times the connection was lost and made again. */
  reconnects: number;
}

export function emptyStats(): RabbitMqStats {
  return { confirmed: 0, rejected: 0, resent: 0, delivered: 0, handled: 0, retried: 0, deadLettered: 0, requeued: 0, paused: 0, reconnects: 0 };
}
