import 'reflect-metadata';
import { Container } from 'inversify';
import { pluginToken } from '../tokens.js';
import type { ComponentNode, ServiceClass } from './component-graph.js';

/**
 * Binds every plugin instance (one token per prefix) and every service (its class is its
 * token) as singletons, then resolves the services in graph order.
 */
export function buildContainer(
  order: readonly ComponentNode[],
  pluginInstances: ReadonlyMap<string, object>,
  values: ReadonlyMap<symbol, unknown>,
  overrides: ReadonlyMap<ServiceClass, object> = new Map(),
): { container: Container; instances: Map<string, object> } {
  const container = new Container({ defaultScope: 'Singleton' });
  for (const [token, value] of values) container.bind(token).toConstantValue(value);
  for (const [prefix, instance] of pluginInstances) container.bind(pluginToken(prefix)).toConstantValue(instance);
  for (const node of order) {
    if (node.kind !== 'service') continue;
    const override = overrides.get(node.serviceClass);
    if (override) container.bind(node.serviceClass).toConstantValue(override);
    else container.bind(node.serviceClass).toSelf().inSingletonScope();
  }
  const instances = new Map<string, object>();
  for (const node of order) {
    instances.set(node.id, node.kind === 'plugin' ? (pluginInstances.get(node.id) as object) : container.get(node.serviceClass));
  }
  return { container, instances };
}
