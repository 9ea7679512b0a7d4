/**
 * Every non-fatal problem core reports is a Warning with a stable `code`, so a
 * script branches on the code and shows the message; the context fields say
 * where it happened. Printed as `warning: <message>`; in a `--json` document
 * and a `--json-lines` event as the object itself.
 */
export const WARNING_CODES = [
  /** A file or folder was removed while the backup read it. */
  'FILE_VANISHED',
  /** A file or folder could not be read (permission, I/O error ...). */
  'FILE_UNREADABLE',
  /** A file changed while it was read: archived as read. */
  'FILE_CHANGED',
  /** Left out on purpose: a special file, a socket of the run, another file system. */
  'FILE_SKIPPED',
  /** An optional destination failed; the required ones have the shard. */
  'DESTINATION_FAILED',
  /** A failed upload left an object behind that the next prune removes. */
  'UPLOAD_LEFTOVER',
  /** Retention after the run could not delete a shard, or could not run at all. */
  'RETENTION_FAILED',
  /** A destination holds shards of this config dated in the future (a wrong clock). */
  'SHARD_IN_FUTURE',
  /** A hook after the run (after, on_error, finally, a destination's after) failed. */
  'HOOK_FAILED',
  /** The state folder could not be written (run history, in-flight note, file list). */
  'STATE_WRITE_FAILED',
  /** A notification (webhook, ping, mail) could not be sent. */
  'NOTIFICATION_FAILED',
  /** The Prometheus metrics file could not be written. */
  'METRICS_WRITE_FAILED',
  /** A check could not read what it meant to (a verify or restore that went on without it). */
  'NOT_CHECKED',
  /** A restore in place left a source out: a command's output has no place of its own. */
  'SOURCE_NOT_RESTORED',
  /** A secret in the config is too weak to be masked safely in output. */
  'WEAK_SECRET',
  /** A shard's index object is missing or damaged: its archive was read instead (slower, same answer). */
  'INDEX_UNUSABLE',
] as const;
export type WarningCode = (typeof WARNING_CODES)[number];

/** Where a warning happened: only the fields that apply are set. */
export interface WarningContext {
  /** The source's name (backup.sources[].name). */
  source?: string;
  /** A path inside the archive (`<source>/...`), or on disk when it never reached one. */
  path?: string;
  /** The destination's name. */
  destination?: string;
  /** A shard id. */
  shard?: string;
  /** The hook that failed, as printed (`after hook [systemctl start app]`). */
  hook?: string;
  /** The notification channel (`webhook`, `healthchecks`, `mail` ...). */
  channel?: string;
  /** A failed hook's command as configured (masked). */
  command?: string;
  /** A failed hook's exit code; absent when it was killed, stopped or could not start. */
  exit_code?: number;
  /** The signal that killed a failed hook (`SIGKILL`); absent when it exited. */
  signal?: string;
  /** A failed hook's last lines of output (stdout and stderr as they came, masked). */
  output_tail?: string[];
  /** A config key, as `backup.destinations[nas].password`, with its file, line and column. */
  key_path?: string;
  file?: string;
  line?: number;
  column?: number;
}

export interface Warning extends WarningContext {
  /** A WarningCode; typed as string because a newer version may add codes. */
  code: string;
  /** One line for people, masked like every message. */
  message: string;
}

export function warning(code: WarningCode, message: string, context: WarningContext = {}): Warning {
  return { code, message, ...definedOnly(context) };
}

function definedOnly(context: WarningContext): WarningContext {
  return Object.fromEntries(Object.entries(context).filter(([, value]) => value !== undefined));
}
