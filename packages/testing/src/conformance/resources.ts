import { createHook } from 'node:async_hooks';

/** Async resources that mean I/O or a timer started (promises and internal requests are not). */
const WATCHED = /^(TCPWRAP|TCPCONNECTWRAP|PIPEWRAP|PIPECONNECTWRAP|UDPWRAP|TLSWRAP|GETADDRINFOREQWRAP|Timeout|Immediate|HTTPCLIENTREQUEST|FSREQCALLBACK|FSREQPROMISE)$/;

/** Records which watched async resources are created while it is on. */
export class ResourceRecorder {
  readonly created: string[] = [];
  readonly #hook = createHook({
    init: (_id, type) => {
      if (WATCHED.test(type) && !(type === 'Immediate' && queuedForPerformanceObserver())) this.created.push(type);
    },
  });

  start(): void {
    this.#hook.enable();
  }

  stop(): void {
    this.#hook.disable();
  }
}

/** Follows the watched resources created while it is on, until each is destroyed. */
export class HandleTracker {
  readonly #alive = new Map<number, { type: string; resource: object }>();
  #on = false;
  readonly #hook = createHook({
    init: (id, type, _trigger, resource) => {
      if (this.#on && WATCHED.test(type)) this.#alive.set(id, { type, resource });
    },
    destroy: (id) => void this.#alive.delete(id),
  });

  start(): void {
    this.#on = true;
    this.#hook.enable();
  }

  /** Stops recording new resources; destroys are still followed. */
  pause(): void {
    this.#on = false;
  }

  stop(): void {
    this.#hook.disable();
  }

  /** What is still open: timers that keep the process alive, sockets, requests. */
  alive(): string[] {
    return [...this.#alive.values()]
      .filter(({ type, resource }) => type !== 'Timeout' || (resource as { hasRef?: () => boolean }).hasRef?.() !== false)
      .map(({ type }) => type);
  }
}

/**
 * Node delivers performance entries (a garbage collection, seen by the app's default process
 * metrics) to observers from an Immediate it queues itself: the app's, whenever a GC happens,
 * never the plugin's doing.
 */
function queuedForPerformanceObserver(): boolean {
  return new Error().stack?.includes('internal/perf/observe') === true;
}
