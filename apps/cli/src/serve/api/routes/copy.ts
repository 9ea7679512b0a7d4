import type { FastifyInstance } from 'fastify';
import type { Service } from '../../service.js';
import { startCopy } from '../../work/copy.js';
import { accepted } from '../reply.js';
import { acceptedResponses, copyBody } from '../schemas.js';

/** Copying shards between two configured destinations (a job, like `matric-backup copy`). */
export function copyRoutes(app: FastifyInstance, service: Service): void {
  app.post<{ Body: { ids?: string[]; all?: boolean; from: string; to: string; dry_run?: boolean } }>(
    '/api/v1/copy',
    {
      schema: {
        summary:
          'Copy shards from one destination to another, checksum checked, sidecar last (a job; never beside a backup)',
        body: copyBody,
        response: acceptedResponses,
      },
    },
    async (request, reply) => {
      const { ids, all, from, to, dry_run } = request.body;
      const job = startCopy(service, request.caller, {
        ...(ids && { ids }),
        ...(all !== undefined && { all }),
        from,
        to,
        ...(dry_run !== undefined && { dryRun: dry_run }),
      });
      return accepted(reply, job);
    },
  );
}
