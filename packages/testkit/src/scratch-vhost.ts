import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { requireService } from './services.js';
import { uniqueName } from './unique-name.js';

const run = promisify(execFile);

/** A throwaway RabbitMQ virtual host: its queues and exchanges are invisible to every other one. */
export interface ScratchVhost {
  readonly name: string;
  /** The broker URL (`TEST_AMQP_URL`) with this vhost as its path. */
  readonly url: string;
  /** Deletes the vhost and everything in it. Safe to call twice. */
  delete(): Promise<void>;
}

/**
 * Creates a uniquely named vhost and grants the URL's user every permission on it, so
 * code with fixed queue names can run in parallel with itself. Uses `rabbitmqctl`, so the
 * broker must be local and the caller allowed to run it (root, or the rabbitmq user).
 */
export async function createScratchVhost(prefix = 'plinth-test'): Promise<ScratchVhost> {
  const baseUrl = new URL(await requireService('rabbitmq'));
  const name = uniqueName(prefix, '.');
  const user = decodeURIComponent(baseUrl.username) || 'guest';
  await rabbitmqctl(['add_vhost', name]);
  await rabbitmqctl(['set_permissions', '-p', name, user, '.*', '.*', '.*']);
  const url = new URL(baseUrl);
  url.pathname = `/${encodeURIComponent(name)}`;
  let deleted: Promise<void> | undefined;
  return {
    name,
    url: url.toString(),
    delete() {
      deleted ??= rabbitmqctl(['delete_vhost', name]).then(() => undefined);
      return deleted;
    },
  };
}

async function rabbitmqctl(args: readonly string[]): Promise<string> {
  try {
    const { stdout } = await run('rabbitmqctl', args, { timeout: 30_000 });
    return stdout;
  } catch (err) {
    const detail = err instanceof Error ? err.message.split('\n').slice(0, 3).join(' ') : String(err);
    throw new Error(`rabbitmqctl ${args.join(' ')} failed (${detail}). A scratch vhost needs a local RabbitMQ and permission to run rabbitmqctl (root).`, { cause: err });
  }
}
