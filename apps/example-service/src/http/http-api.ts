import { APP, APP_SETTINGS, Inject, Service, type App, type OnStart } from '@plinth/core';
import fastify, { type FastifyError, type FastifyInstance } from 'fastify';
import { WelcomedUsers } from '../events/welcomed-users.js';
import { UserRepository } from '../users/user-repository.js';
import { UserService } from '../users/user-service.js';
import type { ExampleSettings } from '../settings.js';
import { fieldErrors } from './validation-errors.js';

const createUserBody = {
  type: 'object',
  required: ['name', 'email'],
  additionalProperties: false,
  properties: {
    name: { type: 'string', minLength: 1, maxLength: 200 },
    email: { type: 'string', maxLength: 320, pattern: '^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$' },
  },
} as const;

const userParams = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'integer', minimum: 1, maximum: 2147483647 } },
} as const;

/**
 * The users API on fastify. plinth serves the probes on the same port and drains the
 * server on SIGTERM; this class only listens.
 */
@Service()
export class HttpApi implements OnStart {
  readonly server: FastifyInstance;

  constructor(
    @Inject(APP) private readonly app: App,
    @Inject(APP_SETTINGS) private readonly settings: ExampleSettings,
    @Inject(UserService) private readonly users: UserService,
    @Inject(UserRepository) private readonly repository: UserRepository,
    @Inject(WelcomedUsers) private readonly welcomed: WelcomedUsers,
  ) {
    this.server = fastify({ logger: false, ajv: { customOptions: { coerceTypes: 'array', allErrors: true } } });
    this.routes(this.server);
    this.app.attachHttpServer(this.server);
  }

  async onStart(): Promise<void> {
    await this.server.listen({ port: this.settings.httpPort, host: this.settings.httpHost });
    const address = this.server.server.address();
    const port = typeof address === 'object' && address ? address.port : this.settings.httpPort;
    this.app.logger.info({ port, url: `http://127.0.0.1:${port}` }, `listening on http://127.0.0.1:${port}`);
  }

  private routes(server: FastifyInstance): void {
    server.setErrorHandler((error: FastifyError, _request, reply) => {
      if (error.validation) return reply.code(400).send(fieldErrors(error));
      if (error.statusCode && error.statusCode < 500) return reply.code(error.statusCode).send({ error: error.message });
      this.app.logger.error({ err: error }, 'request failed');
      return reply.code(500).send({ error: 'internal error' });
    });

    server.post<{ Body: { name: string; email: string } }>('/users', { schema: { body: createUserBody } }, async (request, reply) => {
      const result = await this.users.create(request.body.name, request.body.email);
      if ('duplicate' in result) return reply.code(409).send({ error: 'email already registered', fields: { email: 'is taken' } });
      return reply.code(201).send(result.created);
    });

    server.get<{ Params: { id: number } }>('/users/:id', { schema: { params: userParams } }, async (request, reply) => {
      const { user, fromCache } = await this.users.find(request.params.id);
      void reply.header('x-cache', fromCache ? 'hit' : 'miss');
      if (!user) return reply.code(404).send({ error: 'user not found' });
      return user;
    });

    server.get('/stats', async () => {
      const [usersCreated, eventsConsumed] = await Promise.all([this.repository.count(), this.welcomed.count()]);
      return { usersCreated, eventsConsumed };
    });
  }
}
