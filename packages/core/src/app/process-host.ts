import type { EnvSource } from '../config/load-settings.js';
import type { AppHttp } from '../http/app-http.js';
import { runBoundedSteps } from '../lifecycle/bounded-steps.js';
import { describeSettings } from '../config/describe-config.js';
import { withEnvFile } from '../config/env-file.js';
import type { App } from './app.js';
import type { AppComposition } from './app-composition.js';
import type { AppLifecycle } from './app-lifecycle.js';
import type { ProcessHost } from './run-process.js';

/** The narrow face of an app that the process runner drives. */
export function processHostOf(app: App, lifecycle: AppLifecycle, http: AppHttp, composition: AppComposition, env: EnvSource): ProcessHost {
  return {
    name: app.name,
    version: lifecycle.version,
    signal: lifecycle.signal,
    state: () => lifecycle.state,
    // --help describes the implementations that would run, so it loads what the env names.
    describeSettings: async () => {
      await composition.load(withEnvFile(app.name, app.envPrefix, env));
      return describeSettings(composition.groups);
    },
    start: () => lifecycle.start(),
    stop: (reason) => lifecycle.stop(reason ?? 'stop requested'),
    reload: async () => {
      await lifecycle.reload();
    },
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
