import type { Channel, ChannelModel } from 'amqplib';

/** Every vhost has it and a passive declare of it needs no permission beyond connecting. */
const CHECK_EXCHANGE = 'amq.direct';

/**
 * An active round trip to the broker for the health check: a passive exchange declare on
 * a channel of its own. A broker that accepts bytes but never answers (wedged, or a
 * network path that swallows traffic) passes every passive check of the connection
 * state; only a round trip shows it. One check is in flight at a time: while the broker
 * hangs, later checks wait on the same round trip (each bounded by its own signal) instead of
 * piling up channels.
 */
export class RoundTripCheck {
  #model: ChannelModel | undefined;
  #channel: Promise<Channel> | undefined;
  #inFlight: Promise<void> | undefined;

  /** Resolves when the broker answered; rejects when `signal` aborts first or the channel fails. */
  check(model: ChannelModel, signal: AbortSignal): Promise<void> {
    if (this.#model !== model) this.reset(model);
    this.#inFlight ??= this.#roundTrip(model).finally(() => {
      this.#inFlight = undefined;
    });
    return untilAborted(this.#inFlight, signal);
  }

  /** Forget the channel (the connection changed or closed). */
  reset(model?: ChannelModel): void {
    this.#model = model;
    this.#channel = undefined;
    this.#inFlight = undefined;
  }

  async #roundTrip(model: ChannelModel): Promise<void> {
    const opening = (this.#channel ??= this.#open(model));
    try {
      const channel = await opening;
      await channel.checkExchange(CHECK_EXCHANGE);
    } catch (error) {
      if (this.#channel === opening) this.#channel = undefined;
      throw error;
    }
  }

  async #open(model: ChannelModel): Promise<Channel> {
    const channel = await model.createChannel();
    channel.on('error', () => undefined);
    channel.on('close', () => {
      if (this.#model === model) this.#channel = undefined;
    });
    return channel;
  }
}

function untilAborted(promise: Promise<void>, signal: AbortSignal): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const onAbort = (): void => reject(new Error('the broker did not answer a round trip within the health timeout'));
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      () => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error as Error);
      },
    );
  });
}
