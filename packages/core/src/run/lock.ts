import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { link, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { MatricError } from '../errors.js';
import { onInterrupt } from '../util/interrupt.js';

/** A crashed run's lock is taken over after this long even if its pid looks alive (pid reuse). */
export const LOCK_EXPIRY_MS = 6 * 60 * 60 * 1000;

interface Holder {
  pid: number;
  host: string;
  started_at: string;
  config: string;
  /** Tells our own lock from a successor's when releasing. */
  token: string;
}

export interface RunLock {
  file: string;
  release(): Promise<void>;
}

export interface LockOptions {
  expiryMs?: number;
  now?: () => Date;
}

/**
 * One run per config at a time: `<state_dir>/run-<hash of the config path>.lock`
 * (0600) names the holder. It is created whole or not at all (written aside,
 * then hard-linked into place, which fails if it exists). A lock whose pid is
 * dead on this host, or older than the expiry, is stale and taken over; a live
 * one fails with LOCKED naming the holder.
 */
export async function acquireRunLock(
  stateDir: string,
  configFile: string,
  options: LockOptions = {},
): Promise<RunLock> {
  const { expiryMs = LOCK_EXPIRY_MS, now = () => new Date() } = options;
  const file = join(
    stateDir,
    `run-${createHash('sha256').update(configFile).digest('hex').slice(0, 16)}.lock`,
  );
  const mine: Holder = {
    pid: process.pid,
    host: hostname(),
    started_at: now().toISOString(),
    config: configFile,
    token: randomBytes(8).toString('hex'),
  };
  const aside = `${file}.${mine.token}.tmp`;
  try {
    await mkdir(stateDir, { recursive: true, mode: 0o700 });
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
      if (await linkOrExists(aside, file)) {
        const forget = onInterrupt(() => releaseLock(file, mine.token));
        return {
          file,
          release: async () => {
            forget();
            releaseLock(file, mine.token);
          },
        };
      }
      const current = await readLock(file);
      if (!current) continue; // released between our attempt and the read
      if (!isStale(current.holder, now(), expiryMs))
        throw lockedError(configFile, file, current.holder, expiryMs);
      await removeIfUnchanged(file, current.raw);
    }
    throw new MatricError('LOCKED', `could not take the run lock ${file}: it keeps changing hands`);
  } finally {
    await rm(aside, { force: true });
  }
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
}

/** undefined when the lock is gone; a torn or foreign file reads as a holder that is long dead. */
async function readLock(file: string): Promise<LockFile | undefined> {
  let raw: string;
  try {
    raw = await readFile(file, 'utf8');
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
      return { holder: { config: '', token: '', ...parsed } as Holder, raw };
    }
  } catch {
    // not JSON: treated as dead below
  }
  return { holder: { pid: 0, host: '', started_at: new Date(0).toISOString(), config: '', token: '' }, raw };
}

function isStale(holder: Holder, now: Date, expiryMs: number): boolean {
  const age = now.getTime() - Date.parse(holder.started_at);
  // NaN age (an unparsable date) counts as expired.
  if (!(age < expiryMs)) return true;
  return holder.host === hostname() && !isAlive(holder.pid);
}

function isAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
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
 * Removes the lock if it is still ours: after an expiry takeover the file is
 * someone else's, and a lock that cannot be read is left alone. Synchronous, so
 * an interrupted process (see onInterrupt) releases it too.
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

function lockedError(configFile: string, file: string, holder: Holder, expiryMs: number): MatricError {
  const where = holder.host && holder.host !== hostname() ? ` on ${holder.host}` : '';
  return new MatricError(
    'LOCKED',
    `another run of ${configFile} is in progress (pid ${holder.pid}${where}, started ${holder.started_at})`,
    {
      hint: `wait for it to finish; if that process no longer runs, delete ${file} (a lock older than ${expiryMs / 3_600_000} h is taken over automatically)`,
    },
  );
}
