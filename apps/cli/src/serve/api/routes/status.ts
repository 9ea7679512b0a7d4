import { readRunHistory } from '@matric-backup/core';
import type { FastifyInstance } from 'fastify';
import { destinationStatusDocument } from '../../../documents/status.js';
import { readStatus } from '../../../operations/status.js';
import type { Service } from '../../service.js';
import { describeApiError } from '../errors.js';
import { okResponses } from '../schemas.js';

/** The service at a glance: the last run, the running job, the next scheduled run, each destination. */
export function statusRoutes(app: FastifyInstance, service: Service): void {
  app.get(
    '/api/v1/backup/status',
    {
      schema: {
        summary: "The last run, the job running, the next scheduled run and each destination's newest shard",
        response: okResponses,
      },
    },
    async () => {
      const config = service.config;
      const [last] = await readRunHistory(config.backup.state_dir, { config: config.file, limit: 1 });
      const report = await readStatus(config);
      const destinations = report.destinations.map(({ name, type, status, error }) =>
        error === undefined
          ? { name, type, status: 'ok', ...(status && destinationStatusDocument(status)) }
          : { name, type, status: 'error', error: describeApiError(error, service.redact).error },
      );
      const schedule = service.schedule();
      const running = service.runner.running;
      return {
        success: true,
        data: {
          config: config.file,
          name: config.backup.name,
          started_at: service.startedAt.toISOString(),
          stopping: service.stopping,
          last_backup: last ?? null,
          running: running
            ? { job_id: running.id, kind: running.kind, progress: running.progress ?? null }
            : null,
          next_scheduled: schedule?.next?.toISOString() ?? null,
          schedule: schedule?.description ?? null,
          destinations,
        },
      };
    },
  );
}
