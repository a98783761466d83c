import { ScrubPipeline } from './pipeline.js';
import type { SentrySdk } from './sdk.js';

/** Who initialised the SDK in this process before the app existed. */
export interface PreloadRecord {
  readonly app: string;
  readonly prefix: string;
  /** The SDK module it loaded and initialised. */
  readonly sdk: SentrySdk;
}

interface SentryProcessState {
  readonly pipeline: ScrubPipeline;
  preload: PreloadRecord | undefined;
  /** "auto-instrumentation unavailable" is said once per process, not per app instance. */
  warnedNoPreload: boolean;
}

// The SDK is one per process, so its plinth-side state is too; a global symbol keeps it
// shared even when the preload and the app load different copies of this package.
const KEY = Symbol.for('plinth.plugin-sentry.state');

export function processState(): SentryProcessState {
  const holder = globalThis as typeof globalThis & { [KEY]?: SentryProcessState };
  holder[KEY] ??= { pipeline: new ScrubPipeline(), preload: undefined, warnedNoPreload: false };
  return holder[KEY];
}
