import { createScratchRedis, type ScratchRedis } from '@plinth/testkit';
import { pluginConformance } from '@plinth/testing';
import { after, before, describe } from 'node:test';
import { redis, type RedisPlugin } from '../src/index.js';

let scratch: ScratchRedis;
before(async () => {
  scratch = await createScratchRedis();
});
after(() => scratch.release());

const unreachable = ({ host, port }: { host: string; port: number }) => ({ url: `redis://:redis-conformance-secret@${host}:${port}` });

describe('on a Redis server', () => {
  pluginConformance(redis, {
    get settings() {
      return { url: scratch.url };
    },
    unreachable,
  });
});

describe('embedded', () => {
  pluginConformance(redis, {
    settings: {},
    unreachable,
    isolation: {
      write: (instance, key) => (instance as RedisPlugin).cache.set(key, 'seen'),
      sees: async (instance, key) => (await (instance as RedisPlugin).cache.get(key)) !== undefined,
    },
  });
});
