import { ExitCode, exitCodeOfRun } from '../exit-codes.js';
import type { Printer } from '../output/printer.js';
import type { ApiClient } from './connection.js';

interface Job {
  id: string;
  status: 'running' | 'succeeded' | 'failed' | 'skipped';
  shard?: string;
  result?: {
    status: 'success' | 'warning' | 'partial' | 'failed';
    destinations: Array<{ name: string; status: string; error?: { code: string; message: string } }>;
  };
  error?: { code: string; message: string };
}

/** How often a waiting `run --server` asks how its job is doing. */
const POLL_MS = 500;

/**
 * `run --server`: the service runs the backup (POST /api/v1/backups) and this waits for its job,
 * so a manual run and the schedule never meet at the lock. Exits as `run` would: 0, 3, 5, or 1
 * for a failed run; 4 while the service runs another backup.
 */
export async function remoteRun(
  printer: Printer,
  api: ApiClient,
  options: { destinations?: string[]; dryRun: boolean; prune: boolean; type?: 'full' | 'incremental' },
): Promise<ExitCode> {
  const started = await api.call<{ job_id: string }>('POST', '/api/v1/backups', {
    ...(options.destinations && { destinations: options.destinations }),
    dry_run: options.dryRun,
    prune: options.prune,
    ...(options.type && { type: options.type }),
  });
  printer.note(`the service started job ${started.job_id}; waiting for it`);
  let job: Job;
  for (;;) {
    job = await api.call<Job>('GET', `/api/v1/jobs/${started.job_id}`);
    if (job.status !== 'running') break;
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
  if (printer.json) {
    printer.result(job);
  } else if (job.result) {
    printer.line(`shard ${job.shard ?? ''}: ${job.result.status}`);
    for (const destination of job.result.destinations) {
      const error = destination.error ? `  ${destination.error.code}: ${destination.error.message}` : '';
      printer.line(`  ${destination.status.padEnd(8)} ${destination.name}${error}`);
    }
  }
  if (job.error && !printer.json)
    printer.error(`error: job ${job.id} ${job.status}: ${job.error.code}: ${job.error.message}`);
  if (job.result) return exitCodeOfRun(job.result.status);
  if (job.status === 'succeeded') return ExitCode.OK;
  return job.error?.code === 'LOCKED' ? ExitCode.LOCKED : ExitCode.FAILED;
}
