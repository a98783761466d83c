import { inject } from 'inversify';
import { recordInjectionPoint, type InjectionToken } from '../internal/injection-metadata.js';

/**
 * Injects another service (by its class) or a value registered under a token
 * (`APP_SETTINGS`, `LOGGER`, `APP`). Every parameter names its token explicitly, so
 * injection works without `design:paramtypes` metadata.
 */
export function Inject(token: InjectionToken): ParameterDecorator {
  return (target, propertyKey, index) => {
    if (propertyKey !== undefined) {
      throw new TypeError(`@Inject(...) is for constructor parameters only`);
    }
    if (token === undefined || token === null) {
      const name = (target as { name?: string }).name ?? 'a class';
      throw new TypeError(
        `${name} constructor parameter ${index}: @Inject() got undefined; is the injected class imported through a circular import?`,
      );
    }
    recordInjectionPoint(target, { kind: 'token', index, token });
    inject(token)(target, propertyKey, index);
  };
}
