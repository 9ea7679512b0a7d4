import { BYTE_SIZE_HINT, parseByteSize } from '@matric-backup/plugin-api';
import { z } from 'zod';
import { DURATION_HINT, DURATION_PATTERN, parseDuration } from '../util/duration.js';

/**
 * backup.yaml: the original design's keys (a file written for that design loads
 * unchanged; some keys are acted on by later features) plus sources, state and
 * per-destination settings. Unknown keys are errors.
 */

function isTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

const timeZone = z.string().refine(isTimeZone, 'an IANA time zone such as UTC or Europe/Berlin');

const duration = z.union([
  z.number().nonnegative(),
  z.string().trim().regex(DURATION_PATTERN, DURATION_HINT),
]);

export const retentionSchema = z.strictObject({
  keep_last: z.int().nonnegative().optional(),
  keep_daily: z.int().nonnegative().optional(),
  keep_weekly: z.int().nonnegative().optional(),
  keep_monthly: z.int().nonnegative().optional(),
  keep_yearly: z.int().nonnegative().optional(),
  max_total_size_gb: z.number().positive().optional(),
  min_backups: z.int().nonnegative().optional(),
  /** IANA time zone for calendar buckets; default UTC. */
  timezone: timeZone.optional(),
});

const compressionSchema = z
  .strictObject({
    algorithm: z.enum(['zstd', 'gzip', 'none']).default('zstd'),
    /** 1-19 for zstd, 1-9 for gzip. */
    level: z.int().min(1).max(19).optional(),
  })
  .refine((compression) => compression.algorithm !== 'gzip' || (compression.level ?? 1) <= 9, {
    message: 'gzip levels go from 1 to 9',
    path: ['level'],
  });

const encryptionSchema = z.strictObject({
  enabled: z.boolean().default(false),
  method: z.enum(['age', 'gpg']).default('age'),
  /** age public keys (or files of them) or GPG key ids. */
  recipients: z.array(z.string().min(1)).default([]),
  /** age identity file used by verify and restore. */
  identity_file: z.string().optional(),
  /** GnuPG home folder holding the keys (method gpg); default $GNUPGHOME or ~/.gnupg. */
  gpg_homedir: z.string().optional(),
});

/**
 * `backup.format` held content options (include_original, content_format, ...)
 * that nothing ever read. A config that still sets it gets this error rather
 * than a bare "unknown key", so its owner knows the block can simply go.
 */
const removedFormat = z
  .unknown()
  .optional()
  .superRefine((value, ctx) => {
    if (value !== undefined)
      ctx.addIssue({
        code: 'custom',
        message:
          '`backup.format` was removed: its content options never changed what a backup stores; delete the block',
      });
  });

/**
 * When `matric-backup serve` runs a backup (and what `matric-backup systemd --timer` writes into the
 * timer). Three ways to say it, one at a time: the calendar keys (`full_backup`, `time`,
 * `day_of_week`), `cron`, or `interval`. `cron` overriding the calendar keys is kept from older
 * configs; `interval` with either is an error.
 */
const scheduleSchema = z
  .strictObject({
    full_backup: z.enum(['hourly', 'daily', 'weekly']).optional(),
    /** Time of day for daily and weekly; its minutes for hourly. */
    time: z
      .string()
      .regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'a time like 02:00')
      .optional(),
    /** For weekly; ignored otherwise (older configs set it beside `daily`). */
    day_of_week: z
      .enum(['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'])
      .optional(),
    /** A cron expression (5 fields, or 6 with seconds first); overrides full_backup/time/day_of_week. */
    cron: z.string().trim().min(1, 'a cron expression such as "0 2 * * *"').optional(),
    /** A fixed period between runs, counted from the last one; 0 = no schedule (manual runs only). */
    interval: duration.optional(),
    /** Time zone of `time` and `cron`; default the machine's local time zone. */
    timezone: timeZone.optional(),
    /** Each scheduled run starts after a random delay of up to this much (spreads many hosts). */
    random_delay: duration.optional(),
    /** Run once when the service starts, whatever the schedule says; default false. */
    run_on_start: z.boolean().optional(),
    /**
     * At start, one run when a scheduled time passed since the last successful backup (the
     * machine was off, the service stopped), as systemd's `Persistent=true`.
     * Default true.
     */
    catch_up: z.boolean().optional(),
  })
  .superRefine((schedule, ctx) => {
    if (schedule.interval === undefined) return;
    for (const key of ['cron', 'full_backup', 'time', 'day_of_week'] as const) {
      if (schedule[key] !== undefined)
        ctx.addIssue({
          code: 'custom',
          path: [key],
          message: `\`${key}\` and \`interval\` are two schedules: keep one of them`,
        });
    }
  });

/** `serve`'s HTTP API: a unix socket by default, TCP only when `listen` is set; always behind a token. */
const apiSchema = z.strictObject({
  /** Unix socket path (mode 0660); default $RUNTIME_DIRECTORY/api.sock under systemd, else <state_dir>/api.sock. */
  socket: z.string().min(1).optional(),
  /** `host:port` to listen on over TCP as well; never without a token. */
  listen: z
    .string()
    .regex(/^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/, 'host:port, e.g. 127.0.0.1:8787')
    .optional(),
  /** File of bearer tokens, one a line: `TOKEN`, or `NAME TOKEN` (the name is recorded in the audit log). */
  token_file: z.string().min(1).optional(),
  /** Folders the API may restore into (a target must be one of them or inside one); none: restore is refused. */
  restore_roots: z.array(z.string().min(1)).default([]),
});

const smtpSchema = z.strictObject({
  host: z.string(),
  port: z.int().positive().optional(),
  secure: z.boolean().optional(),
  username: z.string().optional(),
  password: z.string().optional(),
  from: z.string().optional(),
});

const httpUrl = z.string().regex(/^https?:\/\/\S+$/, 'an http:// or https:// URL');

/** A webhook with its own method, headers and retries (`webhook_url` is the short form: POST, no headers). */
const webhookSchema = z.strictObject({
  url: httpUrl,
  method: z.enum(['POST', 'PUT', 'PATCH']).default('POST'),
  /** Sent as they are; values of Authorization and of names with token, key or secret are masked in output. */
  headers: z.record(z.string().regex(/^[A-Za-z0-9-]+$/, 'a header name'), z.string()).default({}),
  /** Further attempts after a connection failure, a timeout, HTTP 429 or 5xx (1 s, 2 s, 4 s ... apart). */
  retries: z.int().min(0).max(10).default(2),
});

/**
 * healthchecks.io-style pings: `start` when a run begins, `success` or `fail` when it ends, the
 * run's log tail as the body. `url` alone gives `url/start` and `url/fail`.
 */
const healthchecksSchema = z
  .strictObject({
    url: httpUrl.optional(),
    start_url: httpUrl.optional(),
    success_url: httpUrl.optional(),
    fail_url: httpUrl.optional(),
    retries: z.int().min(0).max(10).default(2),
  })
  .refine((hc) => hc.url !== undefined || hc.success_url !== undefined, {
    message: "set `url` (the check's ping URL) or at least `success_url`",
  });

/** ntfy.sh (or a self-hosted ntfy): the one-line text, with a title, priority and tags. */
const ntfySchema = z.strictObject({
  /** The topic URL, e.g. https://ntfy.sh/my-backups. */
  url: httpUrl,
  /** An access token (sent as a bearer token); a secret. */
  token: z.string().optional(),
  /** 1-5; default 3, and 4 for failures. */
  priority: z.int().min(1).max(5).optional(),
  tags: z.array(z.string()).default([]),
  retries: z.int().min(0).max(10).default(2),
});

const notificationsSchema = z.strictObject({
  on_success: z.boolean().default(false),
  on_failure: z.boolean().default(true),
  webhook_url: z.string().optional(),
  webhooks: z.array(webhookSchema).default([]),
  healthchecks: healthchecksSchema.optional(),
  ntfy: ntfySchema.optional(),
  email: z.union([z.string(), z.array(z.string())]).optional(),
  smtp: smtpSchema.optional(),
});

/**
 * A hook command: an argv list run without a shell, `{command: [...]}` with its own timeout and
 * folder, or `{shell: '...'}` run by /bin/sh -c (pipes, &&) when that is what it needs. A bare
 * string is refused: whether it meant a shell is for the config to say.
 */
const hookArgv = z
  .array(z.string().min(1))
  .min(1, 'a program and its arguments, e.g. [systemctl, stop, app]');
const hookOptions = {
  /** Stopped (SIGTERM, then SIGKILL) and counted as failed when it runs longer; default 5m. */
  timeout: duration.optional(),
  /** Working folder; default (and relative to) the config file's folder. */
  cwd: z.string().min(1).optional(),
};
const hookSchema = z
  .unknown()
  .superRefine((value, ctx) => {
    if (typeof value === 'string')
      ctx.addIssue({
        code: 'custom',
        message:
          'a hook is an argv list like [systemctl, stop, app], or {shell: "..."} to run it through /bin/sh',
      });
  })
  .pipe(
    z.union([
      hookArgv,
      z.strictObject({ command: hookArgv, ...hookOptions }),
      z.strictObject({ shell: z.string().trim().min(1), ...hookOptions }),
    ]),
  );
const hookList = z.array(hookSchema);

/** Commands around a whole run: before it (a failure aborts it), after it, on error, and always. */
const hooksSchema = z.strictObject({
  before: hookList.default([]),
  after: hookList.default([]),
  on_error: hookList.default([]),
  finally: hookList.default([]),
});

/** Commands around one destination's upload (mount a disk, wake a NAS). */
const destinationHooksSchema = z.strictObject({
  before: hookList.default([]),
  after: hookList.default([]),
});

const retrySchema = z.strictObject({
  max_retries: z.int().nonnegative().default(3),
  initial_delay: duration.default('1s'),
  max_delay: duration.default('60s'),
  backoff_factor: z.number().min(1).default(2),
});

/**
 * When a run stores only what changed since the previous shard of this config
 * (an incremental shard) and when it stores everything (a full shard).
 */
const incrementalSchema = z.strictObject({
  /** A run makes a full shard once the chain's full shard is this old. */
  full_every: duration
    .refine((value) => parseDuration(value) > 0, 'a duration above zero, like 7d')
    .default('7d'),
  /** At most this many incrementals follow one full shard. */
  max_chain: z.int().min(1).default(14),
  /**
   * How a file counts as unchanged: `metadata` (size, modification and change
   * time, inode; unchanged files are not read) or `content` (every file is read
   * and hashed).
   */
  compare: z.enum(['metadata', 'content']).default('metadata'),
});

const sourceBase = {
  name: z
    .string()
    .regex(
      /^[A-Za-z0-9][A-Za-z0-9._-]*$/,
      'letters, digits, . _ - (it becomes a folder name in the archive)',
    ),
};

const fileName = z.string().regex(/^[^/\0]+$/, 'a plain file name');

const directorySourceSchema = z.strictObject({
  ...sourceBase,
  type: z.literal('directory'),
  path: z.string().min(1),
  include: z.array(z.string()).optional(),
  exclude: z.array(z.string()).optional(),
  /**
   * A file that vanishes, cannot be read or changes while read: `warn` (default)
   * stores the shard without it (or as read) and ends "completed with warnings";
   * `fail` fails the run.
   */
  on_error: z.enum(['warn', 'fail']).default('warn'),
  /** A file of exclude globs, one a line (`#` comments); relative to the config file. */
  exclude_from: z.string().min(1).optional(),
  /** A folder holding an entry of this name (e.g. `.nobackup`) is left out with everything in it. */
  exclude_if_present: z.union([fileName, z.array(fileName)]).optional(),
  /** Do not enter folders on another file system than the source's root (they are stored empty). */
  one_file_system: z.boolean().default(false),
});

const commandSourceSchema = z.strictObject({
  ...sourceBase,
  type: z.literal('command'),
  command: z.array(z.string()).min(1),
  filename: z.string().regex(/^[^/\\\0]+$/, 'a plain file name'),
  /** Working directory of the command; default (and relative to) the config file's folder. */
  cwd: z.string().optional(),
  /** Stop the command (SIGTERM, then SIGKILL) and fail the run when it runs longer; default no limit. */
  timeout: duration.optional(),
});

const sourceSchema = z.discriminatedUnion('type', [directorySourceSchema, commandSourceSchema]);

/**
 * `bandwidth_limit`: bytes per second, written as a byte size with an optional `/s`
 * (`10MiB/s`, `500KB/s`, `1048576`); the size grammar is the SDK's, as everywhere.
 */
const bandwidthLimit = z.union([z.int().positive(), z.string()]).transform((value, ctx) => {
  const bytes = parseByteSize(typeof value === 'string' ? value.replace(/\s*\/\s*s\s*$/i, '') : value);
  if (bytes === undefined || bytes <= 0) {
    ctx.addIssue({
      code: 'custom',
      message: `a rate above 0 such as 10MiB/s: ${BYTE_SIZE_HINT}, optionally followed by /s`,
    });
    return z.NEVER;
  }
  return bytes;
});

/** Keys every destination block has, whatever its type; the rest belongs to the plugin. */
export const destinationCommonSchema = z.object({
  name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'letters, digits, . _ -'),
  type: z.string().min(1),
  enabled: z.boolean().default(true),
  required: z.boolean().default(true),
  retention: retentionSchema.optional(),
  /** Bytes per second this destination's uploads and downloads together may use; default unlimited. */
  bandwidth_limit: bandwidthLimit.optional(),
  /** npm package providing this type, for third-party plugins. */
  plugin: z.string().optional(),
  /** Commands before and after this destination's upload. */
  hooks: destinationHooksSchema.optional(),
});
export const DESTINATION_COMMON_KEYS = [
  'name',
  'type',
  'enabled',
  'required',
  'retention',
  'bandwidth_limit',
  'plugin',
  'hooks',
] as const;

export const backupSchema = z.strictObject({
  /**
   * The config's identity, recorded in every sidecar: retention, status and
   * `restore latest` consider only shards of this name. Default: see defaultConfigName.
   */
  name: z
    .string()
    .trim()
    .min(1, 'must not be empty')
    .max(128, 'at most 128 characters')
    .regex(/^\P{Cc}+$/u, 'no control characters')
    .optional(),
  format: removedFormat,
  compression: compressionSchema.default({ algorithm: 'zstd' }),
  encryption: encryptionSchema.optional(),
  sources: z.array(sourceSchema).default([]),
  // Each block is validated on its own (validate-destinations.ts): its common keys with
  // destinationCommonSchema, the rest with its plugin's schema.
  destinations: z.array(z.unknown()).min(1, 'at least one destination'),
  retention: retentionSchema.optional(),
  /** Absent: every run makes a full shard unless `run --type incremental` asks otherwise. */
  incremental: incrementalSchema.optional(),
  schedule: scheduleSchema.optional(),
  api: apiSchema.optional(),
  notifications: notificationsSchema.optional(),
  hooks: hooksSchema.optional(),
  retry: retrySchema.default({ max_retries: 3, initial_delay: '1s', max_delay: '60s', backoff_factor: 2 }),
  /** Run history, lock, audit log; default $XDG_STATE_HOME/matric-backup or /var/lib/matric-backup for root. */
  state_dir: z.string().optional(),
  /** Where the shard is spooled before upload; default <state_dir>/spool. */
  spool_dir: z.string().optional(),
  /** Replaces `backup` in shard ids `backup_YYYYMMDD_HHMMSS`. */
  id_prefix: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9-]*$/, 'letters, digits and - (no _ : it separates the timestamp)')
    .default('backup'),
  /** Names this machine in manifests; retention only touches shards of this instance. Default: host name. */
  source_instance: z.string().optional(),
});

export const configFileSchema = z.strictObject({ backup: backupSchema });

export type BackupSection = z.output<typeof backupSchema>;
export type RetentionPolicy = z.output<typeof retentionSchema>;
export type SourceConfig = z.output<typeof sourceSchema>;
export type DirectorySourceConfig = z.output<typeof directorySourceSchema>;
export type CommandSourceConfig = z.output<typeof commandSourceSchema>;
export type RetryConfig = z.output<typeof retrySchema>;
export type ScheduleConfig = z.output<typeof scheduleSchema>;
export type IncrementalPolicy = z.output<typeof incrementalSchema>;
export const DEFAULT_INCREMENTAL_POLICY: IncrementalPolicy = incrementalSchema.parse({});
