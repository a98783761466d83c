import { PlinthError } from '@plinth/core';

/** `pick(service)` found no instance whose checks are passing or warning. */
export class NoHealthyInstanceError extends PlinthError {
  /** `NoHealthyInstanceError.is(error)` works across copies of this package. */
  static override readonly brand: symbol = Symbol.for('plinth.error.NoHealthyInstanceError');
  override readonly name = 'NoHealthyInstanceError';
  constructor(readonly service: string) {
    super(`no healthy instance of "${service}" is registered`);
  }
}
