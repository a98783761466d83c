import { pluginConformance } from '@plinth/testing';
import { describe } from 'node:test';
import { consul } from '../src/index.js';

const unreachable = ({ host, port }: { host: string; port: number }) => ({ url: `http://${host}:${port}` });

describe('against an agent that never answers, and embedded', () => {
  pluginConformance(consul, {
    config: {},
    unreachable,
    secrets: () => ({ token: 'consul-conformance-secret' }),
  });
});
