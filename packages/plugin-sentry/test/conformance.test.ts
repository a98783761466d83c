import { pluginConformance } from '@plinth/testing';
import { describe } from 'node:test';
import { sentry } from '../src/index.js';

const unreachable = ({ host, port }: { host: string; port: number }) => ({ dsn: `http://conformance-key@${host}:${port}/1` });

describe('against an ingest endpoint that never answers, and off', () => {
  pluginConformance(sentry, {
    settings: {},
    unreachable,
    secrets: ({ host, port }) => ({ dsn: `http://sentry-conformance-secret@${host}:${port}/1` }),
    // A hung ingest endpoint must never delay startup: preStart does not wait for it.
    startsWithoutDependency: true,
  });
});
