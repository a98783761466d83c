import { PluginUnavailableError } from '../errors.js';
import { messageOf } from '../message-of.js';

type Listener = (available: boolean) => void;

/**
 * Whether a plugin can serve calls right now. The lifecycle marks it available when
 * preStart succeeds; the plugin marks it unavailable when its connection drops and
 * available again when it recovers. API methods call `assertAvailable()` first so a
 * call during an outage fails fast instead of queueing.
 */
export class PluginAvailability {
  #available = false;
  #reason: string | undefined = 'not started';
  readonly #listeners = new Set<Listener>();

  constructor(
    readonly pluginType: string,
    readonly prefix: string,
  ) {}

  get available(): boolean {
    return this.#available;
  }

  /** Why it is unavailable (no secrets: plugins pass redacted text). */
  get reason(): string | undefined {
    return this.#reason;
  }

  markAvailable(): void {
    this.#reason = undefined;
    this.#set(true);
  }

  markUnavailable(reason: unknown): void {
    this.#reason = messageOf(reason);
    this.#set(false);
  }

  /** Throws `PluginUnavailableError` unless the plugin is available. */
  assertAvailable(): void {
    if (!this.#available) throw new PluginUnavailableError(this.pluginType, this.prefix, this.#reason);
  }

  onChange(listener: Listener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #set(available: boolean): void {
    if (this.#available === available) return;
    this.#available = available;
    for (const listener of this.#listeners) listener(available);
  }
}
