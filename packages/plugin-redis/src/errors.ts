import { PluginUnavailableError } from '@plinth/core';
import {
  ClientClosedError,
  ClientOfflineError,
  ConnectionTimeoutError,
  DisconnectsClientError,
  ReconnectStrategyError,
  SocketClosedUnexpectedlyError,
  SocketTimeoutError,
  TimeoutError,
} from '@redis/client';
import { OperationTimeoutError } from '@plinth/core/lifecycle';

/**
 * Errors that mean "Redis cannot be reached right now" rather than "Redis refused this
 * command": they become PluginUnavailableError so callers handle one type.
 */
export function isConnectionError(error: unknown): boolean {
  return (
    error instanceof ClientClosedError ||
    error instanceof ClientOfflineError ||
    error instanceof DisconnectsClientError ||
    error instanceof SocketClosedUnexpectedlyError ||
    error instanceof ConnectionTimeoutError ||
    error instanceof SocketTimeoutError ||
    error instanceof ReconnectStrategyError ||
    error instanceof TimeoutError ||
    OperationTimeoutError.is(error) ||
    (error instanceof Error && 'code' in error && typeof error.code === 'string' && /^E[A-Z]+$/.test(error.code))
  );
}

/** A PluginUnavailableError that keeps the driver error as its `cause`. */
export function unavailableError(pluginType: string, prefix: string, reason: string, cause?: unknown): PluginUnavailableError {
  const error = new PluginUnavailableError(pluginType, prefix, reason);
  if (cause !== undefined) error.cause = cause;
  return error;
}
