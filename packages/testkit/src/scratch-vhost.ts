import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { requireService } from './services.js';
import { uniqueName } from './unique-name.js';

const run = promisify(execFile);

/** A throwaway RabbitMQ virtual host: every queue and exchange of a test, isolated. */
export interface ScratchAmqpVhost {
  readonly name: string;
  /** The broker URL with this vhost as its path. */
  readonly url: string;
  /** Deletes the vhost and everything in it. Safe to call twice. */
  drop(): Promise<void>;
}

/**
 * Creates a vhost with `rabbitmqctl` (so the broker must run on this machine and the test
 * may run it, as root does) and grants the test user every permission on it. For tests
 * that spawn an app whose queue names are fixed, so runs in parallel never share a queue.
 */
export async function createScratchAmqpVhost(prefix = 'plinth-test'): Promise<ScratchAmqpVhost> {
  const base = new URL(await requireService('rabbitmq'));
  const name = uniqueName(prefix, '-');
  const user = decodeURIComponent(base.username || 'guest');
  await run('rabbitmqctl', ['add_vhost', name]);
  await run('rabbitmqctl', ['set_permissions', '-p', name, user, '.*', '.*', '.*']);
  const url = new URL(base);
  url.pathname = `/${encodeURIComponent(name)}`;
  let dropped = false;
  return {
    name,
    url: url.toString(),
    async drop() {
      if (dropped) return;
      dropped = true;
      await run('rabbitmqctl', ['delete_vhost', name]).catch(() => undefined);
    },
  };
}
