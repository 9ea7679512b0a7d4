import type { FastifyInstance } from 'fastify';
import { healthResponse } from '../../health.js';
import type { Service } from '../../service.js';
import { refreshHealth } from '../../work/health.js';

/**
 * `/health/backup` (200 healthy, 503 stale or failed) and `/metrics` (Prometheus text), for
 * probes and scrapers: plain bodies, not the API's `{success, data}`, behind the same token.
 */
export function monitoringRoutes(app: FastifyInstance, service: Service): void {
  app.get(
    '/health/backup',
    {
      schema: {
        summary:
          "Backup health per destination: 503 when this config's newest shard is too old or the last run failed",
      },
    },
    async (_request, reply) => {
      const { statusCode, body } = healthResponse(await refreshHealth(service));
      return reply.status(statusCode).send(body);
    },
  );
  app.get(
    '/metrics',
    { schema: { summary: 'Prometheus metrics of this service (text format 0.0.4)' } },
    async (_request, reply) => reply.type(service.metrics.contentType).send(await service.metrics.text()),
  );
}
