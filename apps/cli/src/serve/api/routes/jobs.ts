import type { FastifyInstance } from 'fastify';
import type { Service } from '../../service.js';
import { ApiError } from '../errors.js';
import { jobParams, okResponses } from '../schemas.js';

/** Jobs: the progress and outcome of a long operation, by the id its 202 answer gave. */
export function jobRoutes(app: FastifyInstance, service: Service): void {
  app.get<{ Params: { id: string } }>(
    '/api/v1/jobs/:id',
    {
      schema: {
        summary: "A job's status (running, succeeded, failed, skipped), progress, result or error",
        params: jobParams,
        response: okResponses,
      },
    },
    async (request) => {
      const job = service.jobs.get(request.params.id);
      if (!job) throw new ApiError(404, 'NOT_FOUND', `job not found: ${request.params.id}`);
      return { success: true, data: job };
    },
  );

  app.get(
    '/api/v1/jobs',
    { schema: { summary: 'The jobs this process ran or runs, newest first', response: okResponses } },
    async () => {
      const jobs = service.jobs.list();
      return { success: true, data: { jobs, total: jobs.length } };
    },
  );
}
