import * as nodeTest from 'node:test';
import { rules, type ConformanceOptions, type RuleId } from './rules.js';
import type { PluginUnderTest } from './subject.js';

/** The two functions a test runner needs to provide: node:test's and Vitest's both fit. */
export interface TestRunner {
  describe(name: string, body: () => void): unknown;
  it(name: string, body: () => Promise<void>, timeout?: number): unknown;
}

export interface PluginConformanceOptions extends ConformanceOptions {
  /** Where the checks are registered: node:test by default; pass `{ describe, it }` from vitest. */
  readonly runner?: TestRunner;
  /** Rules that do not apply, each with the reason (it becomes part of the test name). */
  readonly skip?: Partial<Record<RuleId, string>>;
}

/**
 * Registers one test per contract rule for a plugin factory:
 *
 * ```ts
 * pluginConformance(redis, { settings: { url: 'redis://127.0.0.1:6379' }, unreachable: ({ host, port }) => ({ url: `redis://${host}:${port}` }) });
 * ```
 */
export function pluginConformance(plugin: PluginUnderTest, options: PluginConformanceOptions): void {
  const runner = options.runner ?? { describe: nodeTest.describe, it: nodeTest.it };
  const type = plugin('conformance_db').type;
  runner.describe(`${type} plugin conformance`, () => {
    for (const rule of rules) {
      const skipped = options.skip?.[rule.id];
      if (skipped !== undefined) {
        runner.it(`${rule.title} (not applicable: ${skipped})`, async () => undefined);
        continue;
      }
      runner.it(rule.title, () => rule.run(plugin, options), 60_000);
    }
  });
}
