import { resolve } from 'node:path';
import { MatricError } from '@matric-backup/plugin-api';
import type { InnerManifest, InnerManifestEntry, ShardManifest, SourceOrigin } from '../shard/manifest.js';

/**
 * Where one part of a shard goes. `restore --to DIR` has one placement, the
 * whole archive under DIR (archive paths start with the source name);
 * `restore --in-place` has one per directory source, its archive folder
 * `<name>/` becoming the path the source was read from.
 */
export interface Placement {
  /** The source this placement holds; undefined for the whole archive. */
  source?: string;
  /** Absolute target folder. */
  to: string;
}

/** `--to DIR`. */
export function placementUnder(to: string): Placement[] {
  return [{ to: resolve(to) }];
}

/**
 * `--in-place`: each directory source at its recorded path. Refused for a
 * shard that does not record the paths, and for paths that nest (their moves
 * would cross). Command sources have no place of their own: they are left
 * out, and the returned `skipped` names them.
 */
export function placementsInPlace(manifest: ShardManifest): { placements: Placement[]; skipped: string[] } {
  const { origins } = manifest;
  if (!origins) {
    throw new MatricError(
      'RESTORE_REFUSED',
      `shard ${manifest.id} does not record where its sources came from (made by an older version): it cannot be restored in place`,
      { hint: 'restore it into a folder with --to DIR, then move what you need' },
    );
  }
  const placements = origins
    .filter((origin): origin is SourceOrigin & { path: string } => origin.path !== undefined)
    .map((origin) => ({ source: origin.name, to: origin.path }));
  for (const a of placements) {
    for (const b of placements) {
      if (a !== b && (b.to === a.to || b.to.startsWith(a.to === '/' ? '/' : `${a.to}/`))) {
        throw new MatricError(
          'RESTORE_REFUSED',
          `sources ${a.source} (${a.to}) and ${b.source} (${b.to}) overlap: they cannot be restored in place together`,
          { hint: `restore one at a time: --in-place --include '${a.source}/**', then the other` },
        );
      }
    }
  }
  return {
    placements,
    skipped: origins.filter((origin) => origin.path === undefined).map((origin) => origin.name),
  };
}

/** An archive path's path under the placement's target ('' for its root), or undefined when outside it. */
export function pathUnder(placement: Placement, path: string): string | undefined {
  const { source } = placement;
  if (source === undefined) return path;
  if (path === source) return '';
  return path.startsWith(`${source}/`) ? path.slice(source.length + 1) : undefined;
}

/** The archive path of a path under the placement's target. */
export function archivePath(placement: Placement, relative: string): string {
  const { source } = placement;
  if (source === undefined) return relative;
  return relative ? `${source}/${relative}` : source;
}

/**
 * The inner manifest's entries under the placement, with paths (and hard-link
 * names) relative to its target; its root entry (the source folder itself)
 * apart. For the whole archive, the root entry is the folder of the first
 * source with a selected entry.
 */
export function entriesUnder(
  placement: Placement,
  inner: InnerManifest,
  selected: (path: string) => boolean = () => true,
): { entries: InnerManifestEntry[]; root?: InnerManifestEntry } {
  if (placement.source === undefined) {
    const first = inner.entries.find((entry) => selected(entry.path));
    const source = first?.path.split('/')[0];
    const root = inner.entries.find((entry) => entry.type === 'directory' && entry.path === source);
    return { entries: inner.entries, root };
  }
  const entries: InnerManifestEntry[] = [];
  let root: InnerManifestEntry | undefined;
  for (const entry of inner.entries) {
    const path = pathUnder(placement, entry.path);
    if (path === undefined) continue;
    if (path === '') {
      root = entry;
      continue;
    }
    const hardlink = entry.hardlink === undefined ? undefined : pathUnder(placement, entry.hardlink);
    entries.push({ ...entry, path, ...(hardlink !== undefined && { hardlink }) });
  }
  return { entries, root };
}

/** The placements' targets, for messages. */
export function describeTargets(placements: readonly Placement[]): string {
  return placements.map((placement) => placement.to).join(', ');
}
