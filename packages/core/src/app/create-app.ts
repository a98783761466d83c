import type { SettingsSchema } from '../config/setting.js';
import { App, type AppOptions } from './app.js';

/**
 * Declares an app. Validates the component graph at once (duplicate prefixes, unknown
 * plugins, missing services, cycles), before any I/O; settings are read by `start()`.
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- apps without own settings
export function createApp<S extends SettingsSchema = {}>(options: AppOptions<S>): App<S> {
  return new App(options);
}
