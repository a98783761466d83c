import { APP, APP_SETTINGS, Inject, Service, type App, type OnStart } from '@plinth/core';
import { unavailableResponder } from '@plinth/core/http';
import fastify, { type FastifyError, type FastifyInstance } from 'fastify';
import { WelcomedUsers } from '../events/welcomed-users.js';
import { UserRepository } from '../users/user-repository.js';
import { UserService } from '../users/user-service.js';
import type { ExampleSettings } from '../settings.js';
import { fieldErrors } from './validation-errors.js';
import { validatorCompiler } from './validators.js';

/** No control characters (PostgreSQL rejects NUL in text; the others have no place in a name). */
const PRINTABLE = '^[^\\u0000-\\u001f\\u007f]*$';
/** `local@domain.tld`, without spaces or control characters. */
const EMAIL = '^[^@\\s\\u0000-\\u001f\\u007f]+@[^@\\s\\u0000-\\u001f\\u007f]+\\.[^@\\s\\u0000-\\u001f\\u007f]+$';

const createUserBody = {
  type: 'object',
  required: ['name', 'email'],
  additionalProperties: false,
  properties: {
    name: { type: 'string', minLength: 1, maxLength: 200, pattern: PRINTABLE },
    email: { type: 'string', maxLength: 320, pattern: EMAIL },
  },
} as const;

/** Decimal digits only: `1e309`, `Infinity` or `0x10` would otherwise be coerced to numbers. */
const userParams = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string', pattern: '^[1-9][0-9]{0,9}$' } },
} as const;

/** The users.id column is a PostgreSQL integer. */
const MAX_ID = 2_147_483_647;

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
    this.server = fastify({ logger: false });
    this.server.setValidatorCompiler(validatorCompiler);
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
    const unavailable = unavailableResponder(this.app);
    server.setErrorHandler((error: FastifyError, _request, reply) => {
      if (error.validation) return reply.code(400).send(fieldErrors(error));
      if (error.statusCode && error.statusCode < 500) return reply.code(error.statusCode).send({ error: error.message });
      // A dependency is down: 503 with Retry-After, logged once per outage, not per request.
      if (unavailable.reply(error, reply)) return reply;
      this.app.logger.error({ err: error }, 'request failed');
      return reply.code(500).send({ error: 'internal error' });
    });

    server.post<{ Body: { name: string; email: string } }>('/users', { schema: { body: createUserBody } }, async (request, reply) => {
      const result = await this.users.create(request.body.name, request.body.email);
      if ('duplicate' in result) return reply.code(409).send({ error: 'email already registered', fields: { email: 'is taken' } });
      return reply.code(201).send(result.created);
    });

    server.get<{ Params: { id: string } }>('/users/:id', { schema: { params: userParams } }, async (request, reply) => {
      const id = Number(request.params.id);
      if (id > MAX_ID) return reply.code(400).send({ error: 'invalid input', fields: { id: `must be at most ${MAX_ID}` } });
      const { user, fromCache } = await this.users.find(id);
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
