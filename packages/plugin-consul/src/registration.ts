import type { Logger } from '@plinth/core';
import { Backoff, sleep } from '@plinth/core/lifecycle';
import type { CheckStatus, ServiceRegistration } from './consul-client.js';
import type { Registrar } from './registrar.js';
import { messageOf } from '@plinth/core';

export interface RegistrationOptions {
  /** The service ID this instance registers under. */
  readonly id: string;
  readonly registrar: Registrar;
  readonly mode: 'ttl' | 'http';
  /** TTL heartbeat, and how often the registration is re-asserted. */
  readonly intervalMs: number;
  readonly logger: Logger;
  /** Builds the registration with the status it should start with. */
  readonly build: (status: CheckStatus) => ServiceRegistration;
  /** The status the app is in now (ready → passing, degraded → warning, else critical). */
  readonly status: () => CheckStatus;
  /** Told whether the agent answered the last request. */
  readonly onReachability?: (reachable: boolean, error?: unknown) => void;
}

const RETRY_BACKOFF = { initialDelayMs: 200, maxDelayMs: 5000 };

/**
 * Keeps this instance registered from `start()` until `deregister()`: registers, then every
 * interval reports the TTL status (or, with an HTTP check, asks the agent whether it still
 * holds the service) and registers again when the agent has forgotten it. A status change
 * is reported at once. While the agent is unreachable it retries with jittered backoff.
 */
export class Registration {
  #registered = false;
  #attempted = false;
  #lastReported: CheckStatus | undefined;
  #loop: Promise<void> | undefined;
  #wake = new AbortController();
  readonly #stop = new AbortController();
  readonly #options: RegistrationOptions;
  readonly #id: string;

  constructor(options: RegistrationOptions) {
    this.#options = options;
    this.#id = options.id;
  }

  get registered(): boolean {
    return this.#registered;
  }

  start(): void {
    this.#loop ??= this.#run();
  }

  /** The app's state changed: report it now rather than at the next beat. */
  statusChanged(): void {
    this.#wake.abort();
  }

  /**
   * Stops the loop and deregisters, bounded by `signal`. Safe to call when it never
   * registered; a registration whose answer was lost is deregistered too.
   */
  async deregister(signal: AbortSignal): Promise<void> {
    this.#stop.abort(new Error('deregistering'));
    await this.#loop;
    if (!this.#attempted) return;
    this.#registered = false;
    await this.#options.registrar.deregister(this.#id, signal);
    this.#options.logger.info({ serviceId: this.#id }, 'deregistered from Consul');
  }

  async #run(): Promise<void> {
    const { registrar, mode, intervalMs, logger, build } = this.#options;
    const backoff = new Backoff(RETRY_BACKOFF);
    let failing = false;
    const stop = this.#stop.signal;
    while (!stop.aborted) {
      let delay = intervalMs;
      try {
        const status = this.#options.status();
        if (!this.#registered) {
          this.#attempted = true;
          const registration = build(status);
          await registrar.register(registration, stop);
          this.#registered = true;
          this.#lastReported = status;
          logger.info({ serviceId: registration.id, name: registration.name, address: registration.address, port: registration.port, status }, 'registered with Consul');
        } else if (mode === 'ttl') {
          if ((await registrar.report(build(status), status, `app ${status}`, stop)) === 'forgotten') {
            this.#forgotten('the TTL update was answered 404');
            delay = 0;
          } else {
            if (status !== this.#lastReported) logger.info({ status }, `reported ${status} to Consul`);
            this.#lastReported = status;
          }
        } else if (!(await registrar.isRegistered(build(status), stop))) {
          this.#forgotten('the agent no longer lists it');
          delay = 0;
        }
        this.#options.onReachability?.(true);
        if (failing) logger.info('Consul answers again');
        failing = false;
        backoff.reset();
      } catch (error) {
        if (stop.aborted) break;
        if (!failing) logger.warn({ err: messageOf(error) }, 'Consul registration failed: retrying in the background');
        failing = true;
        this.#options.onReachability?.(false, error);
        delay = backoff.next();
      }
      await this.#pause(delay);
    }
  }

  #forgotten(why: string): void {
    this.#registered = false;
    this.#options.logger.warn({ serviceId: this.#id }, `Consul forgot this instance (${why}): registering again`);
  }

  /** Sleeps `ms`, cut short by a status change or by stop. */
  async #pause(ms: number): Promise<void> {
    if (ms === 0 || this.#stop.signal.aborted) return;
    if (this.#wake.signal.aborted) {
      // The status changed while a request was in flight: go round again at once.
      this.#wake = new AbortController();
      return;
    }
    const wake = this.#wake.signal;
    await sleep(ms, AbortSignal.any([wake, this.#stop.signal])).catch(() => undefined);
    if (wake.aborted) this.#wake = new AbortController();
  }
}
