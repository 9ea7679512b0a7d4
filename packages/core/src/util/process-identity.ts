import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';

/**
 * A process as a lock or a spool folder records it: its pid, and when known
 * the kernel's start time of that pid (field 22 of /proc/PID/stat, clock ticks
 * since boot) and the boot id. A pid alone is not enough to tell a live
 * holder from a dead one: pids are reused, and after a reboot the same pid
 * is some other process. Pid plus start time plus boot names one process.
 */
export interface ProcessIdentity {
  pid: number;
  /** Undefined when /proc cannot tell (not Linux). */
  start?: string;
  boot?: string;
}

export function currentProcess(): ProcessIdentity {
  return withKnown({ pid: process.pid, start: startTimeOf(process.pid), boot: bootId() });
}

/** `<pid>-<start time of that pid, or empty>`: a part of a name that says which process made the file or folder. */
export function ownerTag(): string {
  const self = currentProcess();
  return `${self.pid}-${self.start ?? ''}`;
}

/**
 * Removes what processes that are provably gone (a `kill -9`, the OOM killer, a
 * power loss) left in `folder`: each entry whose name is `prefix` followed by
 * what `rest` matches, its groups 1 and 2 being an ownerTag(). A live owner's
 * entries, and anything else in the folder, are left alone.
 */
export function removeLeftoversOfGone(folder: string, rest: RegExp, prefix = ''): void {
  let names: string[];
  try {
    names = readdirSync(folder);
  } catch {
    return;
  }
  for (const name of names) {
    const match = name.startsWith(prefix) ? rest.exec(name.slice(prefix.length)) : null;
    if (match && !isProcessAlive({ pid: Number(match[1]), start: match[2] || undefined }))
      rmSync(join(folder, name), { recursive: true, force: true });
  }
}

/**
 * Whether the recorded process still runs on this host. When the record has a
 * start time and /proc can be read, the pid must run AND have started at that
 * moment of the same boot; otherwise a running pid counts as alive (the safe
 * side: a live holder must never be taken for dead).
 */
export function isProcessAlive(recorded: ProcessIdentity): boolean {
  const { pid } = recorded;
  if (!Number.isInteger(pid) || pid <= 0) return false;
  if (recorded.boot !== undefined) {
    const boot = bootId();
    if (boot !== undefined && boot !== recorded.boot) return false;
  }
  try {
    process.kill(pid, 0);
  } catch (error) {
    // EPERM: it exists but belongs to another user.
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  if (recorded.start === undefined) return true;
  const start = startTimeOf(pid);
  // Unknown (exited between the two checks, or /proc unreadable here): alive is the safe answer.
  return start === undefined || start === recorded.start;
}

/** Field 22 of /proc/PID/stat; the command name (field 2) may hold spaces and parentheses, so count after its last `)`. */
export function startTimeOf(pid: number): string | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state), so field 22 is fields[19].
  const start = fields[19];
  return start && /^\d+$/.test(start) ? start : undefined;
}

let cachedBoot: string | null | undefined;
function bootId(): string | undefined {
  if (cachedBoot === undefined) {
    try {
      cachedBoot = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim() || null;
    } catch {
      cachedBoot = null;
    }
  }
  return cachedBoot ?? undefined;
}

function withKnown(identity: ProcessIdentity): ProcessIdentity {
  const known: ProcessIdentity = { pid: identity.pid };
  if (identity.start !== undefined) known.start = identity.start;
  if (identity.boot !== undefined) known.boot = identity.boot;
  return known;
}
