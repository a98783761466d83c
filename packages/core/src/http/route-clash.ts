/** A fastify instance's route lookup, as far as the check needs it. */
interface RouteLookup {
  hasRoute(route: { readonly method: string; readonly url: string }): boolean;
}

/**
 * The framework answers its own paths (probes, `/metrics`) before the service's handler
 * sees the request, so a service route on one of them would never run. A fastify instance
 * can be asked which routes it has once they are all registered (at ready): each clash is
 * then named in a warning with the setting that moves the framework's path. Other servers
 * cannot be asked; their routes are shadowed without a word.
 */
export function warnOfShadowedRoutes(
  source: object,
  paths: () => readonly { readonly path: string; readonly setting: string }[],
  warn: (message: string) => void,
): void {
  const { addHook, hasRoute } = source as { addHook?: unknown; hasRoute?: unknown };
  if (typeof addHook !== 'function' || typeof hasRoute !== 'function') return;
  const check = (): void => {
    for (const { path, setting } of paths()) {
      if ((source as RouteLookup).hasRoute({ method: 'GET', url: path })) {
        warn(`your route GET ${path} is shadowed: the app answers ${path} itself (probes and metrics come first); move your route or set ${setting}`);
      }
    }
  };
  try {
    Reflect.apply(addHook, source, ['onReady', async () => check()]);
  } catch {
    check(); // already ready: every route is registered
  }
}
