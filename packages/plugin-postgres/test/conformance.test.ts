import { createScratchPostgresDatabase, type ScratchPostgresDatabase } from '@plinth/testkit';
import { pluginConformance } from '@plinth/testing';
import { after, before } from 'node:test';
import { postgres } from '../src/index.js';

let scratch: ScratchPostgresDatabase;
before(async () => {
  scratch = await createScratchPostgresDatabase('conformance');
});
after(() => scratch.drop());

pluginConformance(postgres, {
  get settings() {
    return { url: scratch.url };
  },
  unreachable: ({ host, port }) => ({ url: `postgres://conformance:pg-conformance-secret@${host}:${port}/conformance` }),
});
