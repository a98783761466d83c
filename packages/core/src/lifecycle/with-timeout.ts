import { OperationTimeoutError } from '../errors.js';

/**
 * Settles with `operation`, or rejects with OperationTimeoutError after `timeoutMs`, or
 * with the signal's reason when it aborts first. The abandoned operation may still reject
 * later (when its connection is destroyed, say); that rejection is absorbed here.
 */
export function withTimeout<T>(operation: Promise<T>, timeoutMs: number, signal?: AbortSignal): Promise<T> {
  operation.catch(() => undefined);
  if (signal?.aborted) return Promise.reject(signal.reason as Error);
  return new Promise<T>((resolve, reject) => {
    const settle = (done: () => void): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      done();
    };
    const onAbort = (): void => settle(() => reject(signal?.reason as Error));
    const timer = setTimeout(() => settle(() => reject(new OperationTimeoutError(timeoutMs))), timeoutMs);
    signal?.addEventListener('abort', onAbort, { once: true });
    operation.then(
      (value) => settle(() => resolve(value)),
      (error: unknown) => settle(() => reject(error as Error)),
    );
  });
}
