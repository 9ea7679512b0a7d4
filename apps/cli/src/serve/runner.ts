import { ApiError } from './api/errors.js';
import type { Job, JobKind, Jobs } from './jobs.js';

/**
 * The daemon's one backup runner: backups, deletions and copies change a config's set
 * of shards, so one runs at a time (the run lock would refuse the second, but
 * only after it began); a second is refused at once, naming the job in the way.
 * Restores and validations only read shards and run beside it.
 */
export class Runner {
  private current: Job | undefined;

  constructor(private readonly jobs: Jobs) {}

  start(
    kind: Extract<JobKind, 'backup' | 'delete' | 'copy'>,
    caller: string,
    work: (job: Job) => Promise<unknown>,
    shard?: string,
  ): Job {
    const current = this.current;
    if (current?.status === 'running') {
      throw new ApiError(
        409,
        'BUSY',
        `a ${current.kind} is running (job ${current.id}); try again when it is done`,
        {
          job_id: current.id,
          kind: current.kind,
        },
      );
    }
    this.current = this.jobs.start(kind, caller, work, shard);
    return this.current;
  }

  /** The backup, deletion or copy running now, if any. */
  get running(): Job | undefined {
    return this.current?.status === 'running' ? this.current : undefined;
  }
}
