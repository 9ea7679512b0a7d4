import type { FastifyReply } from 'fastify';
import type { Job } from '../jobs.js';

/** 202 with the job to poll: `{success, data: {job_id, kind, status, href}}`. */
export function accepted(reply: FastifyReply, job: Job) {
  reply.status(202).header('location', `/api/v1/jobs/${job.id}`);
  return {
    success: true,
    data: { job_id: job.id, kind: job.kind, status: job.status, href: `/api/v1/jobs/${job.id}` },
  };
}
