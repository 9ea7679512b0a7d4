import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { link, readFile, realpath, rename, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { MatricError, makeFolders } from '@matric-backup/plugin-api';
import { onInterrupt } from '../util/interrupt.js';
import { currentProcess, isProcessAlive } from '../util/process-identity.js';

/** A live holder refreshes its lock's mtime this often, so a holder on another host can be judged too. */
const LOCK_HEARTBEAT_MS = 60 * 1000;
/**
 * A lock of another host (a state_dir on a shared filesystem) whose heartbeat
 * is older than this is stale: its pid cannot be checked from here.
 */
export const FOREIGN_LOCK_STALE_MS = 10 * LOCK_HEARTBEAT_MS;

interface Holder {
  pid: number;
  /** Start time of that pid (see ProcessIdentity): a reused pid is not the holder. */
  pid_start?: string;
  boot_id?: string;
  host: string;
  started_at: string;
  /** The config's real path (symlinks resolved): the key of the lock. */
  config: string;
  /** Tells our own lock from a successor's when releasing. */
  token: string;
}

export interface RunLock {
  file: string;
  release(): Promise<void>;
}

export interface LockOptions {
  now?: () => Date;
}

/**
 * One run per config at a time: `<state_dir>/run-<hash of the config's real
 * path>.lock` (0600) names the holder, so a config reached through a symlink
 * or another relative path shares the lock of its target. The file is created
 * whole or not at all (written aside, then hard-linked into place, which fails
 * if it exists). A holder on this host is alive while its pid runs with the
 * recorded start time (a reused pid, or a pid of an earlier boot, is dead):
 * a live holder is never taken over however long it runs, a dead one at once.
 * A holder on another host refreshes the lock's mtime every minute and is
 * stale once that heartbeat stops for FOREIGN_LOCK_STALE_MS.
 */
export async function acquireRunLock(
  stateDir: string,
  configFile: string,
  options: LockOptions = {},
): Promise<RunLock> {
  const { now = () => new Date() } = options;
  // A config that does not exist (yet) keeps its given path: nothing else could reach it by another name.
  const config = await realpath(configFile).catch(() => configFile);
  const file = join(stateDir, `run-${createHash('sha256').update(config).digest('hex').slice(0, 16)}.lock`);
  const self = currentProcess();
  const mine: Holder = {
    pid: self.pid,
    ...(self.start === undefined ? {} : { pid_start: self.start }),
    ...(self.boot === undefined ? {} : { boot_id: self.boot }),
    host: hostname(),
    started_at: now().toISOString(),
    config,
    token: randomBytes(8).toString('hex'),
  };
  const aside = `${file}.${mine.token}.tmp`;
  try {
    await makeFolders(stateDir, 0o700);
    await writeFile(aside, `${JSON.stringify(mine)}\n`, { mode: 0o600, flag: 'wx' });
  } catch (error) {
    throw new MatricError('USAGE', `cannot write the run lock in ${stateDir}: ${(error as Error).message}`, {
      cause: error,
      hint: 'backup.state_dir must be a folder this user can write',
    });
  }
  try {
    // Bounded: each round either takes the lock, finds a live holder, or removes one stale lock.
    for (let round = 0; round < 5; round++) {
      if (await linkOrExists(aside, file)) return heldLock(file, mine.token);
      const current = await readLock(file);
      if (!current) continue; // released between our attempt and the read
      if (!isStale(current)) throw lockedError(config, configFile, file, current.holder);
      await removeIfUnchanged(file, current.raw);
    }
    throw new MatricError('LOCKED', `could not take the run lock ${file}: it keeps changing hands`);
  } finally {
    await rm(aside, { force: true });
  }
}

function heldLock(file: string, token: string): RunLock {
  const forget = onInterrupt(() => releaseLock(file, token));
  // The heartbeat: only a holder on another host is judged by it, but every holder beats.
  const heartbeat = setInterval(() => {
    const at = new Date();
    utimes(file, at, at).catch(() => undefined);
  }, LOCK_HEARTBEAT_MS);
  heartbeat.unref();
  return {
    file,
    release: async () => {
      clearInterval(heartbeat);
      forget();
      releaseLock(file, token);
    },
  };
}

async function linkOrExists(from: string, to: string): Promise<boolean> {
  try {
    await link(from, to);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
}

interface LockFile {
  holder: Holder;
  /** The file's exact text: a stale lock is removed only if it still reads the same. */
  raw: string;
  /** The file's mtime, which a live holder refreshes (ms since the epoch). */
  heartbeat: number;
}

/** undefined when the lock is gone; a torn or foreign file reads as a holder that is long dead. */
async function readLock(file: string): Promise<LockFile | undefined> {
  let raw: string;
  let heartbeat: number;
  try {
    raw = await readFile(file, 'utf8');
    heartbeat = (await stat(file)).mtimeMs;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  try {
    const parsed = JSON.parse(raw) as Partial<Holder>;
    if (
      typeof parsed.pid === 'number' &&
      typeof parsed.host === 'string' &&
      typeof parsed.started_at === 'string'
    ) {
      return { holder: { config: '', token: '', ...parsed } as Holder, raw, heartbeat };
    }
  } catch {
    // not JSON: treated as dead below
  }
  return {
    holder: { pid: 0, host: '', started_at: new Date(0).toISOString(), config: '', token: '' },
    raw,
    heartbeat: 0,
  };
}

function isStale({ holder, heartbeat }: LockFile): boolean {
  if (holder.host !== hostname()) return !(Date.now() - heartbeat < FOREIGN_LOCK_STALE_MS);
  return !isProcessAlive({ pid: holder.pid, start: holder.pid_start, boot: holder.boot_id });
}

/**
 * Moves the stale lock aside and checks it is the one judged stale: if another
 * run took it over meanwhile, its fresh lock is put back instead of deleted.
 */
async function removeIfUnchanged(file: string, staleRaw: string): Promise<void> {
  const moved = `${file}.${randomBytes(8).toString('hex')}.stale`;
  try {
    await rename(file, moved);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  try {
    const found = await readLock(moved);
    if (found && found.raw !== staleRaw) await linkOrExists(moved, file);
  } finally {
    await rm(moved, { force: true });
  }
}

/**
 * Removes the lock if it is still ours: after a takeover (this holder was
 * judged gone) the file is someone else's, and a lock that cannot be read is
 * left alone. Synchronous, so an interrupted process (see onInterrupt)
 * releases it too.
 */
function releaseLock(file: string, token: string): void {
  let holder: Partial<Holder>;
  try {
    holder = JSON.parse(readFileSync(file, 'utf8')) as Partial<Holder>;
  } catch {
    return;
  }
  if (holder.token === token) rmSync(file, { force: true });
}

function lockedError(config: string, given: string, file: string, holder: Holder): MatricError {
  const foreign = holder.host && holder.host !== hostname();
  const where = foreign ? ` on ${holder.host}` : '';
  const alias = given === config ? '' : ` (reached as ${given})`;
  return new MatricError(
    'LOCKED',
    `another run of ${config}${alias} is in progress (pid ${holder.pid}${where}, started ${holder.started_at})`,
    {
      hint: foreign
        ? `wait for it to finish; a lock whose holder stopped refreshing it for ${FOREIGN_LOCK_STALE_MS / 60_000} minutes is taken over automatically`
        : `wait for it to finish; the lock ${file} is taken over as soon as that process is gone`,
    },
  );
}
