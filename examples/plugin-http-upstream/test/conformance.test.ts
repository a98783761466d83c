import { pluginConformance } from '@plinth/testing';
import { after, before, describe } from 'node:test';
import { httpUpstream } from '../src/index.js';
import { startUpstream, type UpstreamServer } from './upstream-server.js';

let upstream: UpstreamServer;
before(async () => {
  upstream = await startUpstream();
});
after(() => upstream.close());

const unreachable = ({ host, port }: { host: string; port: number }) => ({ url: `http://${host}:${port}/v1`, token: 'http-conformance-secret' });

describe('against an HTTP server', () => {
  pluginConformance(httpUpstream, {
    get settings() {
      return { url: upstream.url };
    },
    unreachable,
  });
});

describe('embedded', () => {
  pluginConformance(httpUpstream, {
    settings: {},
    unreachable,
    isolation: {
      write: async () => undefined,
      sees: async () => false,
    },
  });
});
