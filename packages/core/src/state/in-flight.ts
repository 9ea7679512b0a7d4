import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { isProcessAlive } from '../util/process-identity.js';
import { ensureStateDir } from './files.js';

/**
 * `<state_dir>/in-flight/<id>.json`, written before a run uploads and removed
 * once its run record is written. One left behind by a process that no longer
 * lives is the only record of a killed run (kill -9, power loss): it lets that
 * config remove the archive the run left without a sidecar.
 */
export interface InFlightMarker {
  id: string;
  /** backup.name of the config that runs. */
  writer: string;
  config: string;
  pid: number;
  host: string;
  started_at: string;
}

const FOLDER = 'in-flight';

export async function markInFlight(
  stateDir: string,
  marker: Omit<InFlightMarker, 'pid' | 'host'>,
): Promise<void> {
  const full: InFlightMarker = { ...marker, pid: process.pid, host: hostname() };
  await ensureStateDir(join(stateDir, FOLDER));
  await writeFile(join(stateDir, FOLDER, `${marker.id}.json`), `${JSON.stringify(full)}\n`, { mode: 0o600 });
}

export async function clearInFlight(stateDir: string, id: string): Promise<void> {
  await rm(join(stateDir, FOLDER, `${id}.json`), { force: true });
}

/** The markers of runs of `writer` that are no longer running on this host. */
export async function abandonedRuns(stateDir: string, writer: string): Promise<InFlightMarker[]> {
  const names = await readdir(join(stateDir, FOLDER)).catch(() => [] as string[]);
  const found: InFlightMarker[] = [];
  for (const name of names) {
    if (!name.endsWith('.json')) continue;
    try {
      const marker = JSON.parse(await readFile(join(stateDir, FOLDER, name), 'utf8')) as InFlightMarker;
      if (marker.writer === writer && marker.host === hostname() && !isProcessAlive({ pid: marker.pid }))
        found.push(marker);
    } catch {
      // A marker torn by a crash says nothing reliable: it is left alone.
    }
  }
  return found;
}
