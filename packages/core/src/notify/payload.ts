import type { Warning } from '../util/warning.js';

/** What a notification says about one finished operation; built by the caller from its summary. */
export interface NotificationDestination {
  name: string;
  type: string;
  required: boolean;
  status: 'success' | 'failed' | 'skipped';
  bytes: number;
  attempts: number;
  /** verify: the shards checked there. */
  verified?: string[];
  /** prune: the shards deleted there. */
  deleted?: string[];
  /** verify and prune: the shards that did not verify or could not be deleted, and why. */
  failed?: Array<{ id: string; message: string }>;
  error?: { code: string; message: string };
}

/** A path the run could not archive whole. */
interface NotificationWarning {
  code: string;
  path: string;
  reason: string;
}

/** What happened; `backup.*` for runs, `verify.*` and `prune.*` for those commands. */
export type NotificationEvent =
  | 'backup.success'
  | 'backup.warning'
  | 'backup.partial'
  | 'backup.failure'
  /** Another run of the config held the lock: this one did nothing (exit 4). */
  | 'backup.locked'
  /** Stopped by SIGTERM or Ctrl-C. */
  | 'backup.interrupted'
  | 'verify.success'
  | 'verify.failure'
  | 'prune.success'
  | 'prune.failure';

export interface NotificationInput {
  /**
   * `warning`: the shard is stored, but some paths were not archived whole, an
   * optional destination failed or a hook after the run failed.
   */
  status: 'success' | 'warning' | 'partial' | 'failed';
  /** Default: the `backup.*` event of `status`. */
  event?: NotificationEvent;
  /** The run's log (warnings, hook output), masked: the body of healthchecks pings. */
  log?: string[];
  shardId?: string;
  /** Bytes of the stored archive. */
  sizeBytes?: number;
  shardType?: 'full' | 'incremental';
  /** An incremental shard's entries new, changed and deleted since its parent. */
  changes?: { created: number; modified: number; deleted: number };
  durationMs: number;
  configFile: string;
  host: string;
  destinations: NotificationDestination[];
  error?: { code: string; message: string };
  warnings?: NotificationWarning[];
  /** Hooks after the run that failed, as the run's HOOK_FAILED warnings. */
  hookFailures?: Warning[];
}

/** At most this many warnings are listed in a payload; `warning_count` has them all. */
const LISTED_WARNINGS = 100;

export interface NotificationPayload {
  event: NotificationEvent;
  /** What ran: the part of `event` before the dot. */
  operation: 'backup' | 'verify' | 'prune';
  status: NotificationInput['status'];
  /** The shard a run stored; null for verify and prune (see `shards`). */
  shard_id: string | null;
  /** Every shard involved: the one a run stored, those a verify checked or a prune deleted. */
  shards: string[];
  /** Bytes of the stored archive: for an incremental shard, only what changed. */
  size_bytes: number | null;
  shard_type: 'full' | 'incremental' | null;
  /** Incremental shards only; null otherwise. */
  changes: { created: number; modified: number; deleted: number } | null;
  duration_ms: number;
  host: string;
  config: string;
  destinations: NotificationDestination[];
  error: { code: string; message: string } | null;
  /** Paths not archived whole (the first 100); empty when there were none. */
  warnings: NotificationWarning[];
  warning_count: number;
  /** Hooks after the run that failed: `{code: "HOOK_FAILED", message, hook, command, exit_code | signal, output_tail}`. */
  hook_failures: Warning[];
  /** One line Slack and Mattermost show as the message. */
  text: string;
}

const EVENT = {
  success: 'backup.success',
  warning: 'backup.warning',
  partial: 'backup.partial',
  failed: 'backup.failure',
} as const;
const HEADLINE_OF_EVENT: Partial<Record<NotificationEvent, string>> = {
  'backup.locked': 'did not run: another run of this config holds the lock',
  'backup.interrupted': 'was INTERRUPTED',
  'verify.success': 'verify passed',
  'verify.failure': 'verify FAILED',
  'prune.success': 'prune done',
  'prune.failure': 'prune FAILED',
};
const HEADLINE = {
  success: 'succeeded',
  warning: 'completed with warnings',
  partial: 'PARTIALLY FAILED',
  failed: 'FAILED',
} as const;

export function buildPayload(input: NotificationInput): NotificationPayload {
  const event = input.event ?? EVENT[input.status];
  const operation = event.slice(0, event.indexOf('.')) as NotificationPayload['operation'];
  const headline = HEADLINE_OF_EVENT[event] ?? HEADLINE[input.status];
  const parts = [`matric-backup on ${input.host} ${headline}`];
  if (operation === 'backup') parts.push(...runParts(input));
  else parts.push(...maintenanceParts(operation, input.destinations));
  const warnings = input.warnings ?? [];
  if (warnings.length) {
    const first = warnings[0]!;
    const more = warnings.length > 1 ? ` and ${warnings.length - 1} more` : '';
    parts.push(`not archived whole: ${first.path} (${first.reason})${more}`);
  }
  // The hook and how it ended; its output is in `hook_failures`.
  for (const failure of input.hookFailures ?? [])
    parts.push(failure.message.replace(/(; its last output:\n[\s\S]*| \(no output\))$/, ''));
  // A verify's or prune's error is its first destination's failure, already named above.
  if (input.error && operation === 'backup') parts.push(input.error.message);
  const involved = input.destinations.flatMap((d) => d.verified ?? d.deleted ?? []);
  const shards = input.shardId ? [input.shardId] : [...new Set(involved)];
  return {
    event,
    operation,
    status: input.status,
    shard_id: input.shardId ?? null,
    shards,
    size_bytes: input.sizeBytes ?? null,
    shard_type: input.shardId ? (input.shardType ?? 'full') : null,
    changes: input.changes ?? null,
    duration_ms: input.durationMs,
    host: input.host,
    config: input.configFile,
    destinations: input.destinations,
    error: input.error ?? null,
    warnings: warnings.slice(0, LISTED_WARNINGS),
    warning_count: warnings.length,
    hook_failures: input.hookFailures ?? [],
    text: parts.join(' — '),
  };
}

/** A run's text: the shard it stored, where, and each destination that failed. */
function runParts(input: NotificationInput): string[] {
  const parts: string[] = [];
  const stored = input.destinations.filter((d) => d.status === 'success').map((d) => d.name);
  if (input.shardId)
    parts.push(`${input.shardType === 'incremental' ? 'incremental shard' : 'shard'} ${input.shardId}`);
  if (stored.length) parts.push(`stored on ${stored.join(', ')}`);
  for (const destination of input.destinations.filter((d) => d.status === 'failed'))
    parts.push(`${destination.name}: ${destination.error?.message ?? 'failed'}`);
  return parts;
}

/** At most this many shard ids are named in a verify's or prune's text; the payload lists them all. */
const NAMED_SHARDS = 5;

/**
 * A verify's or prune's text, per destination: the shards that failed and why (or the
 * error that kept it from being read), then the shards verified or deleted.
 */
function maintenanceParts(operation: 'verify' | 'prune', destinations: NotificationDestination[]): string[] {
  const verb = operation === 'verify' ? 'verified' : 'deleted';
  return destinations.map((destination) => {
    if (destination.error) return `${destination.name}: ${destination.error.message}`;
    const failed = (destination.failed ?? []).map((shard) => `${shard.id}: ${shard.message}`);
    const done = (operation === 'verify' ? destination.verified : destination.deleted) ?? [];
    const named =
      done.length > NAMED_SHARDS
        ? `${done.slice(0, NAMED_SHARDS).join(', ')} and ${done.length - NAMED_SHARDS} more`
        : done.join(', ');
    const what = done.length === 0 ? `nothing ${verb}` : `${verb} ${named}`;
    return `${destination.name}: ${[...failed, what].join('; ')}`;
  });
}
