import { injectable } from 'inversify';
import { markService, type ServiceOptions } from '../internal/injection-metadata.js';

/** Marks a class as a plinth service: a singleton the container builds and the lifecycle drives. */
export function Service(options: ServiceOptions = {}): ClassDecorator {
  return (target) => {
    injectable()(target);
    markService(target, options);
  };
}
