import { requireService } from '@plinth/testkit';
import { pluginConformance } from '@plinth/testing';
import { before, describe } from 'node:test';
import { rabbitmq } from '../src/index.js';

let url = '';
before(async () => {
  url = await requireService('rabbitmq');
});

const unreachable = ({ host, port }: { host: string; port: number }) => ({ url: `amqp://guest:amqp-conformance-secret@${host}:${port}` });

describe('on a RabbitMQ server', () => {
  pluginConformance(rabbitmq, {
    get settings() {
      return { url };
    },
    unreachable,
  });
});

describe('embedded', () => {
  pluginConformance(rabbitmq, { settings: {}, unreachable });
});
