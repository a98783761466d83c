import { definePlugin, PLUGIN_API_VERSION } from '@plinth/core';
import { RedisPlugin, type RedisPluginOptions } from './redis-plugin.js';
import { redisSettings } from './settings.js';
import { validateRedisSettings } from './target.js';

/**
 * Declares a Redis instance: `redis('session_cache')` (non-critical by default: the app
 * starts degraded without it) or `redis('rate_limits', { critical: true })`. With neither
 * `URL` nor `HOST` set it runs embedded, on an in-memory store (outside production, or
 * with `…_EMBEDDED=true`). Declared `optional: true`, `…_ENABLED=false` turns it into a cache
 * that always misses.
 */
export const redis = definePlugin<typeof redisSettings, RedisPlugin, RedisPluginOptions>({
  type: 'redis',
  pluginApi: `^${PLUGIN_API_VERSION}`,
  critical: false,
  settings: redisSettings,
  embedded: { serverSetting: ['url', 'host'] },
  validateSettings: validateRedisSettings,
  create: (ctx) => new RedisPlugin(ctx),
  // Declared `optional: true` and turned off: a cache that always misses and stores nothing.
  noop: (ctx) => new RedisPlugin(ctx, 'off'),
  validateOptions(options) {
    const backoff = options.reconnectBackoff;
    if (backoff !== undefined) {
      const { initialDelayMs, maxDelayMs } = backoff;
      if (!(initialDelayMs >= 1 && maxDelayMs >= initialDelayMs)) {
        throw new RangeError(`redis reconnectBackoff needs 1 <= initialDelayMs <= maxDelayMs (got ${initialDelayMs}, ${maxDelayMs})`);
      }
    }
    const codec = options.codec;
    if (codec !== undefined && (typeof codec.encode !== 'function' || typeof codec.decode !== 'function')) {
      throw new TypeError('redis codec needs encode(value) and decode(text) functions');
    }
  },
});
