import type { ShardManifest, ShardType, SourceWarning } from '../shard/manifest.js';
import type { Warning } from '../util/warning.js';

/** What runBackup reports while it works; the CLI draws progress bars from these. */
export type RunEvent =
  | { type: 'archive-start' }
  /** At most about ten a second. */
  | { type: 'archive-progress'; files: number; bytesIn: number; bytesOut: number }
  | { type: 'archive-done'; files: number; bytesIn: number; bytesOut: number; sha256: string }
  | { type: 'upload-start'; destination: string; size: number }
  /** At most about ten a second per destination. */
  | { type: 'upload-progress'; destination: string; bytes: number; size: number }
  | {
      type: 'upload-retry';
      destination: string;
      attempt: number;
      delayMs: number;
      error: { code: string; message: string };
    }
  | {
      type: 'upload-done';
      destination: string;
      status: 'success' | 'failed';
      error?: { code: string; message: string };
    }
  | { type: 'warning'; warning: Warning }
  /** A line a hook wrote (stdout or stderr), masked; `hook` names it, e.g. `before hook [systemctl stop app]`. */
  | { type: 'hook-output'; hook: string; line: string };

/**
 * One path as the run meets it, for `run -vv`: a file stored (in an incremental
 * `new` or `changed` since the parent), a path an exclude rule left out, and,
 * once the archive is written, how many files an incremental left out unchanged.
 */
export type FileEvent =
  | { type: 'stored'; path: string; change?: 'new' | 'changed' }
  | { type: 'excluded'; path: string; rule: string }
  | { type: 'unchanged'; files: number };

export interface RunOptions {
  /** Only these destinations (by name); default every enabled one. */
  destinations?: string[];
  /** Validate and walk the sources, report what would be archived; write nothing anywhere. */
  dryRun?: boolean;
  onEvent?: (event: RunEvent) => void;
  /**
   * Each file as it is stored or excluded (FileEvent). Only when set does the run
   * pay for it: a run without a listener walks and packs as before.
   */
  onFile?: (event: FileEvent) => void;
  /** The run's time, which names the shard; default now. */
  now?: Date;
  /** Apply each destination's retention after storing the shard (default true). */
  prune?: boolean;
  /** Write Prometheus text-format metrics here after the run (node_exporter's textfile collector). */
  metricsFile?: string;
  /**
   * Full or incremental; default incremental when backup.incremental is set,
   * else full. An incremental that cannot be made becomes a full shard (see
   * RunSummary.fullReason).
   */
  type?: ShardType;
  /**
   * The exit code the front end gives a run of each outcome, handed to hooks
   * as MATRIC_BACKUP_EXIT_CODE (core picks no number of its own).
   */
  exitCodeOf?: (status: RunSummary['status']) => number;
}

export interface DestinationResult {
  name: string;
  type: string;
  required: boolean;
  /** skipped: the run failed before uploading, or it was a dry run. */
  status: 'success' | 'failed' | 'skipped';
  /** Bytes stored (archive and sidecar) when it succeeded, else 0. */
  bytes: number;
  durationMs: number;
  /** put attempts of the archive, including retries; 0 when skipped. */
  attempts: number;
  error?: { code: string; message: string; retryable: boolean };
  /** Retention applied after the shard was stored; absent when it did not run. */
  prune?: {
    /** Ids of the shards removed, old complete ones and stale incomplete ones. */
    deleted: string[];
    failed: Array<{ id: string; message: string }>;
    /** The destination could not be pruned at all (the shard is stored all the same). */
    error?: { code: string; message: string };
  };
}

/** What a dry run found: what would be archived and where it would go. */
export interface DryRunPlan {
  /** The key the archive would get, e.g. `backup_20260117_020000.tar.zst`. */
  key: string;
  files: number;
  directories: number;
  symlinks: number;
  /** Sum of the file sizes. */
  bytesIn: number;
  /** Command sources are not run in a dry run; their argv is listed instead. */
  commands: Array<{ source: string; command: string[] }>;
  destinations: string[];
}

export interface RunSummary {
  id: string;
  /**
   * The outcome: `success` every required destination has the shard (failed
   * optional ones are `warnings`); `warning` the same, but some paths were not
   * archived whole (`sourceWarnings`), or a hook after the run failed; `partial` a required destination failed
   * but another has the shard; `failed` none has it, or a source failed. The
   * CLI maps it to an exit code.
   */
  status: 'success' | 'warning' | 'partial' | 'failed';
  dryRun: boolean;
  startedAt: string;
  durationMs: number;
  /** What kind of shard the run made (or set out to make). */
  type: ShardType;
  /** Why the shard is full although an incremental one was wanted. */
  fullReason?: string;
  /** An incremental whose parent's file list was rebuilt from this destination's shards (none in the state folder). */
  parentListFrom?: string;
  /** The archive as stored (absent when the sources failed, or on a dry run). */
  archive?: { key: string; size: number; sha256: string; files: number; bytesIn: number };
  /** The sidecar written to each destination that succeeded. */
  manifest?: ShardManifest;
  plan?: DryRunPlan;
  destinations: DestinationResult[];
  /**
   * Non-fatal problems, each with its code: paths not archived whole (also in `sourceWarnings`), skipped
   * special files, failed optional destinations, retention, hooks, state and notifications that failed.
   */
  warnings: Warning[];
  /** Paths that vanished, could not be read or changed while read, also listed in the manifest. */
  sourceWarnings: SourceWarning[];
  /** Why the run failed or was partial; `hint` says what to do when core knows. */
  error?: { code: string; message: string; hint?: string };
}
