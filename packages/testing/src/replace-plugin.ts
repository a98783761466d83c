import type { PluginDeclaration } from '@plinth/core';

/**
 * What a plugin package offers as a ready test double (`redis.embedded()`): it takes the
 * declaration the app made and returns the one the test runs, so code options (schema,
 * migrations, topology) are kept and only where the plugin connects changes.
 */
export type PluginDouble = (declared: PluginDeclaration) => PluginDeclaration;

/** A plugin override: a double, or any object that is injected as the plugin instance. */
export type PluginReplacement = PluginDouble | object;

/**
 * The declaration a test app uses in place of `declared`. A plain object becomes the
 * instance as is (its own preStart/onStop/healthCheck, if any, run like a plugin's); it
 * keeps the declared prefix, type, criticality and dependencies.
 */
export function replacePlugin(declared: PluginDeclaration, replacement: PluginReplacement): PluginDeclaration {
  if (typeof replacement === 'function') {
    const double = (replacement as PluginDouble)(declared);
    if (double.prefix !== declared.prefix) {
      throw new TypeError(`the double for "${declared.prefix}" declares prefix "${double.prefix}" instead`);
    }
    return double;
  }
  return { ...declared, settings: {}, common: { ...declared.common, settings: {} }, instantiate: () => replacement };
}
