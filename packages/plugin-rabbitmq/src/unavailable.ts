import { PluginUnavailableError } from '@plinth/core';

/**
 * A `PluginUnavailableError`, from this copy of core or another one in the same process
 * (so the class check alone is not enough).
 */
export function isUnavailableError(error: unknown): boolean {
  return error instanceof PluginUnavailableError || (error instanceof Error && error.name === 'PluginUnavailableError');
}
