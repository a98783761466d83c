/** What the cache facade needs from a driver: strings in, strings out, full keys. */
export interface CacheStore {
  get(key: string): Promise<string | undefined>;
  /** `ttlMs` undefined = no expiry. */
  set(key: string, value: string, ttlMs: number | undefined): Promise<void>;
  /** True when a key was removed. */
  del(key: string): Promise<boolean>;
}
