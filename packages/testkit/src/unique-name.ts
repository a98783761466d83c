import { randomBytes } from 'node:crypto';

/** `<prefix><sep><time><sep><random>`: unique across parallel workers, sortable by creation time. */
export function uniqueName(prefix: string, separator: string): string {
  return `${prefix}${separator}${Date.now().toString(36)}${separator}${randomBytes(4).toString('hex')}`;
}
