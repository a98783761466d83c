import { HookTimeoutError } from '../errors.js';

/**
 * Runs `task` with a signal that aborts at `timeoutMs` or when `parent` aborts, and
 * settles no later than that: a task that ignores its signal is abandoned, not awaited.
 */
export async function withDeadline<T>(
  task: (signal: AbortSignal) => Promise<T> | T,
  options: { readonly timeoutMs: number; readonly parent?: AbortSignal; readonly component: string; readonly phase: string },
): Promise<T> {
  const controller = new AbortController();
  const timer = setTimeout(
    () => controller.abort(new HookTimeoutError(options.component, options.phase, options.timeoutMs)),
    options.timeoutMs,
  );
  const onParentAbort = (): void => controller.abort(options.parent?.reason);
  if (options.parent?.aborted) onParentAbort();
  else options.parent?.addEventListener('abort', onParentAbort, { once: true });
  try {
    return await raceAbort(Promise.resolve().then(() => task(controller.signal)), controller.signal);
  } finally {
    clearTimeout(timer);
    options.parent?.removeEventListener('abort', onParentAbort);
  }
}

/** Settles with `promise`, or rejects with the signal's reason as soon as it aborts. */
export function raceAbort<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) {
    promise.catch(() => undefined);
    return Promise.reject(signal.reason as Error);
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error as Error);
      },
    );
  });
}
