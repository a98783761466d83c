import type { AppHttp } from '../http/app-http.js';
import { runBoundedSteps } from '../lifecycle/bounded-steps.js';
import type { App } from './app.js';
import type { AppLifecycle } from './app-lifecycle.js';
import type { ProcessHost } from './run-process.js';

/** The narrow face of an app that the process runner drives. */
export function processHostOf(app: App, lifecycle: AppLifecycle, http: AppHttp): ProcessHost {
  return {
    name: app.name,
    version: lifecycle.version,
    signal: lifecycle.signal,
    state: () => lifecycle.state,
    describeSettings: () => app.describeSettings(),
    start: () => lifecycle.start(),
    stop: (reason) => lifecycle.stop(reason ?? 'stop requested'),
    addStartupStep: (step) => lifecycle.steps.startup.push(step),
    logger: () => lifecycle.runtime?.logger,
    settings: () => lifecycle.runtime?.core,
    serveHealth: async () => {
      await lifecycle.serveHealth();
    },
    activity: () => http.activity(),
    onLifecycleEvent: (listener) => app.on('lifecycle', listener),
    reportError: (error, context) => lifecycle.errors.report(error, context),
    toleratedWhy: (reason) => lifecycle.errors.toleratedWhy(reason),
    runExitSteps: () =>
      runBoundedSteps(lifecycle.steps.exit, 'beforeExit step', (error) => lifecycle.runtime?.logger.error({ err: error }, 'beforeExit step failed')),
  };
}
