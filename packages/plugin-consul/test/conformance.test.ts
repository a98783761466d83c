import { pluginConformance } from '@plinth/testing';
import { describe } from 'node:test';
import { consul } from '../src/index.js';

// A password in the agent URL (basic auth in front of the agent) is a secret like the token.
const unreachable = ({ host, port }: { host: string; port: number }) => ({ url: `http://consul:consul-url-secret@${host}:${port}` });

describe('against an agent that never answers, and embedded', () => {
  pluginConformance(consul, {
    settings: {},
    unreachable,
    secrets: () => ({ token: 'consul-conformance-secret' }),
  });
});
