import { readRunHistory } from './history.js';
import { abandonedRuns } from './in-flight.js';

/**
 * What a config's state folder says it wrote: the evidence retention needs
 * before it counts a shard without a writer as this config's, or removes an
 * archive whose sidecar is missing or unreadable.
 */
export interface WriterRecords {
  /** Shard id -> archive size, for every run that stored its shard on at least one destination. */
  stored: Map<string, number>;
  /** Shard id -> destinations where the run that wrote it recorded a failed upload. */
  failed: Map<string, Set<string>>;
  /** Ids of runs that started uploading and never finished (killed): every destination may hold leftovers. */
  abandoned: Set<string>;
}

export function emptyWriterRecords(): WriterRecords {
  return { stored: new Map(), failed: new Map(), abandoned: new Set() };
}

/**
 * Records of the config named `writer`, plus those its file wrote before runs
 * recorded a writer (matched by the config file's path).
 */
export async function readWriterRecords(
  stateDir: string,
  owner: { writer: string; configFile: string },
): Promise<WriterRecords> {
  const records = emptyWriterRecords();
  for (const run of await readRunHistory(stateDir)) {
    const ours = run.writer === undefined ? run.config === owner.configFile : run.writer === owner.writer;
    if (!ours) continue;
    if (run.bytes !== undefined && run.destinations.some((d) => d.status === 'success')) {
      records.stored.set(run.id, run.bytes);
    }
    const failed = run.destinations.filter((d) => d.status === 'failed').map((d) => d.name);
    if (failed.length > 0) records.failed.set(run.id, new Set(failed));
  }
  for (const marker of await abandonedRuns(stateDir, owner.writer)) records.abandoned.add(marker.id);
  return records;
}
