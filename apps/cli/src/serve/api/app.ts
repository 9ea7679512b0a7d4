import swagger from '@fastify/swagger';
import Fastify, { type FastifyInstance } from 'fastify';
import type { Service } from '../service.js';
import { authenticate } from './auth.js';
import { describeApiError } from './errors.js';
import { backupRoutes } from './routes/backups.js';
import { copyRoutes } from './routes/copy.js';
import { jobRoutes } from './routes/jobs.js';
import { mcpRoutes } from './routes/mcp.js';
import { monitoringRoutes } from './routes/monitoring.js';
import { statusRoutes } from './routes/status.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Who called: `token:NAME`, recorded with every change it asks for. */
    caller: string;
  }
  interface FastifyContextConfig {
    /** Answered without a token (the OpenAPI document). */
    public?: boolean;
  }
}

/** Bodies are a few options; anything bigger is a mistake. */
const BODY_LIMIT = 64 * 1024;

/**
 * The HTTP API of `serve`: every route behind the bearer token (but the
 * OpenAPI document), every answer `{success, data}` or `{success, error}`, every
 * error mapped by describeApiError.
 */
export async function buildApi(service: Service, version: string): Promise<FastifyInstance> {
  const app = Fastify({
    logger: false,
    bodyLimit: BODY_LIMIT,
    // Polling clients keep connections open; stopping must not wait for them.
    forceCloseConnections: true,
    // `?destination=a&destination=b` and `?destination=a` alike become an array.
    ajv: { customOptions: { coerceTypes: 'array', removeAdditional: false } },
  });
  await app.register(swagger, {
    openapi: {
      info: {
        title: 'matric-backup',
        version,
        description:
          'Backups of one config: run, list, check, restore and delete shards; jobs for long operations.',
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
  });
  app.decorateRequest('caller', '');
  app.addHook('onRequest', async (request) => {
    if (request.routeOptions.config?.public) return;
    request.caller = authenticate(request.headers.authorization, service.settings.tokens);
  });
  // `curl -X POST` without a body means "no options", as `{}` does.
  app.addHook('preValidation', async (request) => {
    if (request.body === undefined && request.method !== 'GET') request.body = {};
  });
  app.setErrorHandler((error, request, reply) => {
    const { status, error: body } = describeApiError(error, service.redact);
    if (status >= 500)
      service.log.error({ method: request.method, url: request.url, error: body }, 'api request failed');
    reply.status(status).send({ success: false, error: body });
  });
  app.setNotFoundHandler((request, reply) => {
    reply.status(404).send({
      success: false,
      error: {
        code: 'NOT_FOUND',
        message: `no such endpoint: ${request.method} ${request.url.split('?')[0]}`,
      },
    });
  });

  app.get('/api/v1/openapi.json', { schema: { hide: true }, config: { public: true } }, async () =>
    app.swagger(),
  );
  backupRoutes(app, service);
  copyRoutes(app, service);
  statusRoutes(app, service);
  jobRoutes(app, service);
  monitoringRoutes(app, service);
  mcpRoutes(app, service);
  await app.ready();
  return app;
}
