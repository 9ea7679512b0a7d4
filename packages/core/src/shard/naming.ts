import type { CompressionAlgorithm } from './manifest.js';
import { SIDECAR_SUFFIX } from './manifest.js';

/** `<prefix>_YYYYMMDD_HHMMSS` in UTC, with `_2`, `_3`... when that second is taken. */
export function shardId(prefix: string, at: Date, taken: (id: string) => boolean = () => false): string {
  const iso = at.toISOString();
  const base = `${prefix}_${iso.slice(0, 10).replaceAll('-', '')}_${iso.slice(11, 19).replaceAll(':', '')}`;
  if (!taken(base)) return base;
  for (let n = 2; ; n++) {
    const candidate = `${base}_${n}`;
    if (!taken(candidate)) return candidate;
  }
}

const ID_PATTERN = /^([A-Za-z0-9][A-Za-z0-9-]*)_(\d{8})_(\d{6})(?:_(\d+))?$/;

/** The prefix and UTC time encoded in a shard id, or undefined when it is not one. */
export function parseShardId(id: string): { prefix: string; at: Date; seq: number } | undefined {
  const match = ID_PATTERN.exec(id);
  if (!match) return undefined;
  const [, prefix, day, time, seq] = match;
  const at = new Date(
    `${day!.slice(0, 4)}-${day!.slice(4, 6)}-${day!.slice(6, 8)}T${time!.slice(0, 2)}:${time!.slice(2, 4)}:${time!.slice(4, 6)}Z`,
  );
  if (Number.isNaN(at.getTime())) return undefined;
  return { prefix: prefix!, at, seq: seq ? Number(seq) : 1 };
}

const ARCHIVE_EXTENSION: Record<CompressionAlgorithm, string> = {
  zstd: '.tar.zst',
  gzip: '.tar.gz',
  none: '.tar',
};

/** Object keys of a shard, relative to the destination's root. */
export function shardKeys(
  id: string,
  compression: CompressionAlgorithm,
  encryption: 'age' | 'gpg' | null,
): { archive: string; sidecar: string } {
  const encryptedSuffix = encryption === 'age' ? '.age' : encryption === 'gpg' ? '.gpg' : '';
  return {
    archive: `${id}${ARCHIVE_EXTENSION[compression]}${encryptedSuffix}`,
    sidecar: `${id}${SIDECAR_SUFFIX}`,
  };
}

/** The shard id an archive or sidecar key belongs to, if it is one of ours. */
export function shardIdOfKey(key: string): string | undefined {
  const base = key.slice(key.lastIndexOf('/') + 1);
  const match = /^(.+?)(\.manifest\.json|\.tar(\.zst|\.gz)?(\.age|\.gpg)?)$/.exec(base);
  if (!match || !parseShardId(match[1]!)) return undefined;
  return match[1];
}
