import 'reflect-metadata';
import { Container } from 'inversify';
import type { InjectionPoint, InjectionToken } from '../internal/injection-metadata.js';
import { isLazyToken, pluginToken } from '../tokens.js';
import type { ComponentNode, ServiceClass } from './component-graph.js';

type ServiceNode = Extract<ComponentNode, { kind: 'service' }>;

/**
 * Constructs every service in graph order (dependencies first) from the injection points
 * the graph has already validated: the graph is known, so nothing is left for a planner,
 * and a test app's build stays close to raw inversify's cost. `get` answers from what was
 * built; a token that was not is handed to an inversify container holding the same
 * constants (built on that first miss), whose error names the unbound token.
 */
export function buildContainer(
  order: readonly ComponentNode[],
  pluginInstances: ReadonlyMap<string, object>,
  values: ReadonlyMap<symbol, unknown>,
  overrides: ReadonlyMap<ServiceClass, object> = new Map(),
): { get: (token: InjectionToken) => unknown; instances: Map<string, object> } {
  const built = new Map<InjectionToken, unknown>(values);
  for (const [prefix, instance] of pluginInstances) built.set(pluginToken(prefix), instance);
  const instances = new Map<string, object>();
  for (const node of order) {
    if (node.kind === 'plugin') {
      instances.set(node.id, pluginInstances.get(node.id) as object);
      continue;
    }
    const instance = overrides.get(node.serviceClass) ?? construct(node, built);
    built.set(node.serviceClass, instance);
    instances.set(node.id, instance);
  }
  let container: Container | undefined;
  const get = (token: InjectionToken): unknown => {
    if (built.has(token)) return built.get(token);
    container ??= containerOf(built);
    return container.get(token as never);
  };
  return { get, instances };
}

function containerOf(built: ReadonlyMap<InjectionToken, unknown>): Container {
  const container = new Container({ defaultScope: 'Singleton' });
  for (const [token, value] of built) container.bind(token).toConstantValue(value);
  return container;
}

function construct(node: ServiceNode, built: ReadonlyMap<InjectionToken, unknown>): object {
  const args: unknown[] = [];
  for (const point of node.injections) args[point.index] = built.get(tokenOf(point));
  return new node.serviceClass(...args);
}

function tokenOf(point: InjectionPoint): InjectionToken {
  if (point.kind === 'plugin') return pluginToken(point.prefix);
  return isLazyToken(point.token) ? point.token.resolve() : point.token;
}
