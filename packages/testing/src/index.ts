export { createTestApp, type TestApp, type TestAppOverrides } from './create-test-app.js';
export type { PluginDouble, PluginReplacement } from './replace-plugin.js';
export type { LogRecord } from './log-capture.js';
export { templateCopy } from './template-copy.js';
export { pluginConformance, type PluginConformanceOptions, type TestRunner } from './conformance/plugin-conformance.js';
export { rules as conformanceRules, type Address, type ConformanceOptions, type ConformanceRule, type RuleId } from './conformance/rules.js';
export type { PluginUnderTest } from './conformance/subject.js';
