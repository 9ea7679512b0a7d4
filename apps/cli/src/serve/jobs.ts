import { randomUUID } from 'node:crypto';

export type JobKind = 'backup' | 'restore' | 'validate' | 'delete' | 'copy';

/**
 * `skipped`: a backup that did not start because another run held the lock
 * (a scheduled one meeting a run of the CLI, or the daemon's own run).
 */
export type JobStatus = 'running' | 'succeeded' | 'failed' | 'skipped';

export interface JobError {
  code: string;
  message: string;
  details?: unknown;
}

export interface Job {
  id: string;
  kind: JobKind;
  status: JobStatus;
  /** The shard it acts on (for a backup, once its id is known). */
  shard?: string;
  /** Who asked: `token:NAME`, or `scheduler`. */
  caller: string;
  created_at: string;
  finished_at?: string;
  /** What the operation reported last, e.g. `{phase: 'upload', bytes, total}`. */
  progress?: Record<string, unknown>;
  result?: unknown;
  error?: JobError;
}

/** Finished jobs kept for GET /jobs/:id; the oldest finished ones are forgotten first. */
const KEEP_FINISHED = 200;

/**
 * The daemon's long operations, each with an id to poll. A job's work gets a
 * handle to report progress and its shard; its value becomes `result`, what it
 * throws becomes `error` (through `describe`, the API's one error mapping).
 */
export class Jobs {
  private readonly jobs = new Map<string, Job>();
  private readonly running = new Map<string, Promise<void>>();

  constructor(private readonly describe: (error: unknown) => { status: JobStatus; error: JobError }) {}

  start(kind: JobKind, caller: string, work: (job: Job) => Promise<unknown>, shard?: string): Job {
    const job: Job = {
      id: randomUUID(),
      kind,
      status: 'running',
      ...(shard !== undefined && { shard }),
      caller,
      created_at: new Date().toISOString(),
    };
    this.jobs.set(job.id, job);
    const done = work(job).then(
      (result) => {
        job.status = 'succeeded';
        job.result = result;
      },
      (error: unknown) => {
        const described = this.describe(error);
        job.status = described.status;
        job.error = described.error;
      },
    );
    const settled = done.finally(() => {
      job.finished_at = new Date().toISOString();
      this.running.delete(job.id);
      this.forgetOld();
    });
    this.running.set(job.id, settled);
    return job;
  }

  /** Records a job that never started (a scheduled backup while another run held the lock). */
  skipped(kind: JobKind, caller: string, error: JobError): Job {
    const now = new Date().toISOString();
    const job: Job = {
      id: randomUUID(),
      kind,
      status: 'skipped',
      caller,
      created_at: now,
      finished_at: now,
      error,
    };
    this.jobs.set(job.id, job);
    this.forgetOld();
    return job;
  }

  get(id: string): Job | undefined {
    return this.jobs.get(id);
  }

  /** Newest first. */
  list(): Job[] {
    return [...this.jobs.values()].reverse();
  }

  /** Settles when every job running now has finished. */
  async idle(): Promise<void> {
    await Promise.all(this.running.values());
  }

  get busy(): boolean {
    return this.running.size > 0;
  }

  private forgetOld(): void {
    const finished = [...this.jobs.values()].filter((job) => job.status !== 'running');
    for (const job of finished.slice(0, Math.max(0, finished.length - KEEP_FINISHED)))
      this.jobs.delete(job.id);
  }
}
