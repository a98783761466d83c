import { createRequire } from 'node:module';
import type * as PromClient from 'prom-client';

// Core's build sets this to its vendored copy of prom-client; from source (core's own
// tests) it is unset and the installed package loads.
declare const PLINTH_PROM_CLIENT: string | undefined;

let loaded: typeof PromClient | undefined;

/**
 * prom-client, loaded by the first metric an app builds rather than with core: an app's
 * registry is made at the first `app.metrics`, scrape or plugin metric, so a process that
 * nobody scrapes and whose plugins declare no metrics never loads it (about 30 ms and 4 MB
 * of a start). Synchronous, as `app.metrics` is.
 */
export function promClient(): typeof PromClient {
  loaded ??= createRequire(import.meta.url)(typeof PLINTH_PROM_CLIENT === 'string' ? PLINTH_PROM_CLIENT : 'prom-client') as typeof PromClient;
  return loaded;
}
