import { closest } from 'fastest-levenshtein';
import { GraphValidationError } from '../errors.js';
import { PREFIX_PATTERN } from '../config/env-names.js';
import {
  describeToken,
  injectionPointsOf,
  serviceOptionsOf,
  type InjectionPoint,
  type InjectionToken,
} from '../internal/injection-metadata.js';
import type { PluginDeclaration } from '../plugin/define-plugin.js';
import { isLazyToken, type LazyToken } from '../tokens.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- user classes take any constructor arguments
export type ServiceClass = new (...args: any[]) => object;

export type ComponentNode =
  | { readonly kind: 'plugin'; readonly id: string; readonly dependsOn: readonly string[]; readonly plugin: PluginDeclaration }
  | {
      readonly kind: 'service';
      readonly id: string;
      readonly dependsOn: readonly string[];
      readonly serviceClass: ServiceClass;
      readonly injections: readonly InjectionPoint[];
      /** Which constructor parameter injects each dependency, to name the steps of a cycle. */
      readonly parameterOf: ReadonlyMap<string, number>;
    };

/**
 * Validates the declared plugins and services and orders them so that every component
 * comes after what it injects. Ties keep declaration order (plugins, then services), so
 * the order is the same on every run. Throws before any plugin is built.
 */
export function buildComponentGraph(
  plugins: readonly PluginDeclaration[],
  services: readonly ServiceClass[],
  builtInTokens: readonly InjectionToken[],
  overrides: ReadonlyMap<ServiceClass, object> = new Map(),
): ComponentNode[] {
  const byPrefix = new Map<string, PluginDeclaration>();
  for (const plugin of plugins) {
    if (!PREFIX_PATTERN.test(plugin.prefix)) {
      throw new GraphValidationError(
        'INVALID_PREFIX',
        `${plugin.type} plugin prefix "${plugin.prefix}" is invalid: use lower snake case such as "primary_db"`,
      );
    }
    const existing = byPrefix.get(plugin.prefix);
    if (existing) {
      throw new GraphValidationError(
        'DUPLICATE_PREFIX',
        `Two plugins are declared with prefix "${plugin.prefix}" (${existing.type} and ${plugin.type}); each instance needs its own prefix`,
      );
    }
    byPrefix.set(plugin.prefix, plugin);
  }

  const serviceIds = new Map<ServiceClass, string>();
  const takenIds = new Set<string>();
  for (const overridden of overrides.keys()) {
    if (!services.includes(overridden)) {
      throw new GraphValidationError('MISSING_SERVICE', `${overridden.name} is overridden but not listed in services`);
    }
  }
  for (const service of services) {
    if (serviceOptionsOf(service) === undefined) {
      throw new GraphValidationError('NOT_A_SERVICE', `${service.name} is listed in services but has no @Service() decorator`);
    }
    let id = service.name || 'AnonymousService';
    for (let n = 2; takenIds.has(id) || byPrefix.has(id); n++) id = `${service.name}#${n}`;
    serviceIds.set(service, id);
    takenIds.add(id);
  }

  const nodes = new Map<string, ComponentNode>();
  for (const plugin of plugins) {
    const dependsOn = plugin.common.dependsOn ?? [];
    for (const prefix of dependsOn) {
      if (!byPrefix.has(prefix)) {
        throw new GraphValidationError(
          'UNKNOWN_PLUGIN',
          `${plugin.type} plugin "${plugin.prefix}" depends on plugin "${prefix}", which no plugin declares${suggest(prefix, [...byPrefix.keys()])}`,
        );
      }
    }
    nodes.set(plugin.prefix, { kind: 'plugin', id: plugin.prefix, dependsOn, plugin });
  }
  for (const service of services) {
    // An overridden service is never constructed: what it would inject is not needed.
    const injections = overrides.has(service) ? [] : injectionPointsOf(service);
    if (!overrides.has(service)) checkEveryParameterIsDecorated(service, injections);
    const parameterOf = new Map<string, number>();
    const dependsOn: string[] = [];
    for (const point of injections) {
      const dependency = dependencyOf(service, point, byPrefix, serviceIds, builtInTokens);
      if (dependency === undefined) continue;
      if (point.kind === 'plugin' || !parameterOf.has(dependency)) parameterOf.set(dependency, point.index);
      dependsOn.push(dependency);
    }
    const id = serviceIds.get(service) as string;
    nodes.set(id, { kind: 'service', id, dependsOn, serviceClass: service, injections, parameterOf });
  }
  return topologicalOrder(nodes);
}

/** The plugins of a graph, in its order. */
export function pluginsOf(graph: readonly ComponentNode[]): PluginDeclaration[] {
  const plugins: PluginDeclaration[] = [];
  for (const node of graph) if (node.kind === 'plugin') plugins.push(node.plugin);
  return plugins;
}

/** The component an injection point needs (undefined for a built-in value); throws when none is declared. */
function dependencyOf(
  service: ServiceClass,
  point: InjectionPoint,
  byPrefix: ReadonlyMap<string, PluginDeclaration>,
  serviceIds: ReadonlyMap<ServiceClass, string>,
  builtInTokens: readonly InjectionToken[],
): string | undefined {
  // Named only in an error, so only built for one.
  const where = (): string => `${service.name} constructor parameter ${point.index}`;
  if (point.kind === 'plugin') {
    if (byPrefix.has(point.prefix)) return point.prefix;
    const declared = [...byPrefix.keys()];
    throw new GraphValidationError(
      'UNKNOWN_PLUGIN',
      `${where()} injects plugin "${point.prefix}", which no plugin declares${suggest(point.prefix, declared)}; declared: ${declared.join(', ') || 'none'}`,
    );
  }
  const token = resolveToken(point.token, where);
  if (builtInTokens.includes(token)) return undefined;
  const dependency = typeof token === 'function' ? serviceIds.get(token as ServiceClass) : undefined;
  if (dependency === undefined) {
    throw new GraphValidationError('MISSING_SERVICE', `${where()} injects ${describeToken(token)}, which is not registered: add it to createApp({ services })`);
  }
  return dependency;
}

/** A lazy token is read here, once every module has loaded. */
function resolveToken(token: InjectionToken | LazyToken, where: () => string): InjectionToken {
  if (!isLazyToken(token)) return token;
  const resolved = token.resolve();
  if (resolved === undefined || resolved === null) {
    throw new GraphValidationError('MISSING_SERVICE', `${where()}: lazy(() => …) returned ${String(resolved)}; it must return the injected class`);
  }
  return resolved;
}

function suggest(name: string, candidates: readonly string[]): string {
  return candidates.length ? ` (did you mean "${closest(name, [...candidates])}"?)` : '';
}

function checkEveryParameterIsDecorated(service: ServiceClass, injections: readonly InjectionPoint[]): void {
  for (let index = 0; index < service.length; index++) {
    if (!injections.some((point) => point.index === index)) {
      throw new GraphValidationError(
        'MISSING_INJECTION',
        `${service.name} constructor parameter ${index} has no injection token: add @InjectPlugin('prefix') or @Inject(Token)`,
      );
    }
  }
}

function topologicalOrder(nodes: ReadonlyMap<string, ComponentNode>): ComponentNode[] {
  const ordered: ComponentNode[] = [];
  const done = new Set<string>();
  const path: string[] = [];
  const visit = (id: string): void => {
    if (done.has(id)) return;
    const cycleStart = path.indexOf(id);
    if (cycleStart >= 0) {
      const cycle = [...path.slice(cycleStart), id];
      throw new GraphValidationError('DEPENDENCY_CYCLE', `Dependency cycle: ${describeCycle(cycle, nodes)}`);
    }
    const node = nodes.get(id) as ComponentNode;
    path.push(id);
    for (const dependency of node.dependsOn) visit(dependency);
    path.pop();
    done.add(id);
    ordered.push(node);
  };
  for (const id of nodes.keys()) visit(id);
  return ordered;
}

function describeCycle(cycle: readonly string[], nodes: ReadonlyMap<string, ComponentNode>): string {
  const steps = cycle.slice(0, -1).map((id, i) => {
    const node = nodes.get(id);
    const next = cycle[i + 1] as string;
    if (node?.kind !== 'service') return `${id} (dependsOn ${next})`;
    return `${id} (constructor parameter ${node.parameterOf.get(next) ?? '?'} injects ${next})`;
  });
  return `${steps.join(' → ')} → ${cycle[cycle.length - 1]}`;
}
