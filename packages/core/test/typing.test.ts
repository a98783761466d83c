import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { createApp, LOGGER, Service, type Logger } from '../src/index.js';

@Service()
class OrdersService {
  count(): number {
    return 3;
  }
}

describe('app.get types', () => {
  it('a class gives its instance type; a token gives the type asked for (checked by the compiler in lint)', async () => {
    const app = createApp({ name: 'typed-app', services: [OrdersService], env: { TYPED_APP_LOG_LEVEL: 'silent', TYPED_APP_HEALTH_PORT: '0' } });
    await app.start();
    const orders = app.get(OrdersService);
    const count: number = orders.count();
    // @ts-expect-error an OrdersService is not a string
    const wrong: string = app.get(OrdersService);
    const logger = app.get<Logger>(LOGGER);
    assert.equal(count, 3);
    assert.ok((wrong as unknown) instanceof OrdersService);
    assert.equal(typeof logger.info, 'function');
    await app.stop();
  });
});
