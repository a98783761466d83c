import type { ComponentNode } from '../container/component-graph.js';
import { serviceOptionsOf } from '../internal/injection-metadata.js';
import type { HookTimeouts, LifecycleComponent } from '../lifecycle/component.js';
import type { BuiltPlugin } from './plugin-instances.js';

/**
 * The lifecycle's view of every plugin and service, in start order. A plugin declared with
 * `order: 'first'` comes first and is a dependency of every other component, so it starts
 * before all of them and stops after all of them.
 */
export function buildComponents(
  graph: readonly ComponentNode[],
  instances: ReadonlyMap<string, object>,
  plugins: ReadonlyMap<string, BuiltPlugin>,
  serviceTimeouts: HookTimeouts,
  redactAll: (text: string) => string,
): LifecycleComponent[] {
  const first = graph.filter((n) => n.kind === 'plugin' && n.plugin.order === 'first').map((n) => n.id);
  const isFirst = (node: ComponentNode): boolean => first.includes(node.id);
  const ordered = [...graph.filter(isFirst), ...graph.filter((n) => !isFirst(n))];
  return ordered.map((node) => {
    const dependsOn = first.length === 0 || isFirst(node) ? node.dependsOn : [...new Set([...first, ...node.dependsOn])];
    const instance = instances.get(node.id) as LifecycleComponent['instance'];
    if (node.kind === 'plugin') return pluginComponent(node.id, dependsOn, instance, plugins.get(node.id) as BuiltPlugin);
    const own = serviceOptionsOf(node.serviceClass) ?? {};
    return {
      id: node.id,
      kind: 'service',
      pluginType: undefined,
      critical: true,
      dependsOn,
      instance,
      timeouts: {
        preStart: own.startTimeout ?? serviceTimeouts.preStart,
        onStart: own.onStartTimeout ?? serviceTimeouts.onStart,
        onStop: own.stopTimeout ?? serviceTimeouts.onStop,
        health: serviceTimeouts.health,
      },
      availability: undefined,
      retryPreStart: false,
      embedded: false,
      disabled: false,
      redact: redactAll,
    };
  });
}

function pluginComponent(id: string, dependsOn: readonly string[], instance: LifecycleComponent['instance'], plugin: BuiltPlugin): LifecycleComponent {
  const { lifecycle, enabled } = plugin.settings;
  return {
    id,
    kind: 'plugin',
    pluginType: plugin.declaration.type,
    // A plugin turned off cannot fail, so it never holds readiness.
    critical: enabled && lifecycle.critical,
    dependsOn,
    // A plugin turned off runs no hook (nothing connects) and its availability is no state's concern.
    instance: enabled ? instance : {},
    timeouts: { preStart: lifecycle.startTimeout, onStart: lifecycle.onStartTimeout, onStop: lifecycle.stopTimeout, health: lifecycle.healthTimeout },
    availability: enabled ? plugin.availability : undefined,
    retryPreStart: true,
    embedded: plugin.settings.embedded,
    disabled: !enabled,
    redact: plugin.redact,
  };
}
