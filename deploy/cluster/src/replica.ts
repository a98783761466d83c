import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { spawnProcess, type SpawnedProcess } from '@plinth/testkit';

const exampleMain = fileURLToPath(new URL('../../../apps/example-service/dist/main.js', import.meta.url));

/** One process of the example service. */
export interface Replica {
  /** HAProxy's name for the slot this replica fills (`r1` …). */
  readonly server: string;
  readonly port: number;
  /** 1 for the slot's first process, then 2, 3 … as it is replaced. */
  readonly generation: number;
  readonly process: SpawnedProcess;
}

/** Spawns the built example service (`node apps/example-service/dist/main.js`) on `port`. */
export function startReplica(server: string, port: number, generation: number, env: Readonly<Record<string, string>>): Replica {
  if (!existsSync(exampleMain)) throw new Error(`${exampleMain} is missing: run \`npm run build\` first`);
  const child = spawnProcess({
    args: [exampleMain],
    env: {
      ...env,
      EXAMPLE_SERVICE_HTTP_HOST: '127.0.0.1',
      EXAMPLE_SERVICE_HTTP_PORT: String(port),
      // Probes on the service's own port: HAProxy checks what it routes to.
      EXAMPLE_SERVICE_HEALTH_PORT: '0',
    },
    // Its own process group: Ctrl-C reaches the script, which stops replicas gracefully.
    detached: true,
  });
  return { server, port, generation, process: child };
}
