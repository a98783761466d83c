/**
 * The version of the contract between core and plugins (`definePlugin`, the plugin context,
 * `ctx.app`). A plugin declares the range it supports (`pluginApi: '^1.0.0'`); a plugin
 * loaded by name at deploy time must match it. Minor versions add, majors break.
 */
export const PLUGIN_API_VERSION = '1.0.0';

/** Marks the factories `definePlugin` returns, across copies of core in one process. */
export const PLUGIN_FACTORY: unique symbol = Symbol.for('plinth.pluginFactory');
