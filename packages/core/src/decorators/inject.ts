import { inject, LazyServiceIdentifier } from 'inversify';
import { recordInjectionPoint, type InjectionToken } from '../internal/injection-metadata.js';
import { isLazyToken, type LazyToken } from '../tokens.js';

/**
 * Injects another service (by its class) or a value registered under a token
 * (`APP_SETTINGS`, `LOGGER`, `APP`). Every parameter names its token explicitly, so
 * injection works without `design:paramtypes` metadata. A class defined later (or in a
 * module that imports this one) is named with `lazy(() => OtherService)`.
 */
export function Inject(token: InjectionToken | LazyToken): ParameterDecorator {
  return (target, propertyKey, index) => {
    if (propertyKey !== undefined) {
      throw new TypeError(`@Inject(...) is for constructor parameters only`);
    }
    if (token === undefined || token === null) {
      const name = (target as { name?: string }).name ?? 'a class';
      throw new TypeError(
        `${name} constructor parameter ${index}: @Inject() got undefined; is the injected class defined later or imported through a circular import? Name it with @Inject(lazy(() => TheClass))`,
      );
    }
    recordInjectionPoint(target, { kind: 'token', index, token });
    inject(isLazyToken(token) ? new LazyServiceIdentifier(token.resolve) : token)(target, propertyKey, index);
  };
}
