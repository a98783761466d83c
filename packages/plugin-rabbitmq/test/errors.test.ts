import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { PlinthError } from '@plinth/core';
import { ExchangeNotFoundError, PublishError, PublishNackedError, PublishTimeoutError, RabbitMqConfigError, UnroutableError } from '../src/index.js';

describe('publish errors', () => {
  it('each class has a brand of its own: is() tells siblings and other plinth errors apart', () => {
    const nacked = new PublishNackedError('orders', 'order.created', 'm-1');
    assert.equal(PublishNackedError.is(nacked), true);
    assert.equal(PublishError.is(nacked), true, 'the base class recognises its subclasses');
    assert.equal(PlinthError.is(nacked), true);
    assert.equal(PublishTimeoutError.is(nacked), false, 'a sibling is not recognised');
    assert.equal(UnroutableError.is(new ExchangeNotFoundError('gone', 'k', 'm-2')), false);
    assert.equal(PublishError.is(new PlinthError('not a publish')), false);
    assert.equal(RabbitMqConfigError.is(new PlinthError('another plinth error')), false);
    assert.equal(RabbitMqConfigError.is(new RabbitMqConfigError('bad topology')), true);
  });
});
