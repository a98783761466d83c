export { redis } from './redis.js';
export { RedisPlugin, type RedisPluginOptions } from './redis-plugin.js';
export type { RedisClient } from './redis-connection.js';
export type { Cache, CacheMode, CacheSetOptions } from './cache.js';
export { jsonCodec, type CacheCodec } from './codec.js';
export { redisSettings } from './settings.js';
