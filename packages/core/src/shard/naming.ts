import { createHash } from 'node:crypto';
import type { CompressionAlgorithm } from './manifest.js';
import { SIDECAR_SUFFIX } from './manifest.js';

/**
 * The writer tag: eight lowercase letters derived from the config's name and its
 * source instance (host). It is part of every new shard id, so two configs, or
 * one config name on two hosts, never produce the same object key, whatever the
 * timing. Letters only, so it never reads as the `_2` sequence number.
 */
export function writerTag(name: string, sourceInstance: string): string {
  const digest = createHash('sha256').update(`${name}\n${sourceInstance}`).digest();
  let tag = '';
  for (let index = 0; index < 8; index++) tag += String.fromCharCode(97 + (digest[index]! % 26));
  return tag;
}

/**
 * `<prefix>_YYYYMMDD_HHMMSS_<tag>` in UTC, with `_2`, `_3`... when this writer
 * already used that second. Without a tag (ids written before writer tags) the
 * id is `<prefix>_YYYYMMDD_HHMMSS`.
 */
export function shardId(
  prefix: string,
  at: Date,
  tag?: string,
  taken: (id: string) => boolean = () => false,
): string {
  const iso = at.toISOString();
  const stamp = `${prefix}_${iso.slice(0, 10).replaceAll('-', '')}_${iso.slice(11, 19).replaceAll(':', '')}`;
  const base = tag ? `${stamp}_${tag}` : stamp;
  if (!taken(base)) return base;
  for (let n = 2; ; n++) {
    const candidate = `${base}_${n}`;
    if (!taken(candidate)) return candidate;
  }
}

const ID_PATTERN = /^([A-Za-z0-9][A-Za-z0-9-]*)_(\d{8})_(\d{6})(?:_([a-z]{8}))?(?:_(\d+))?$/;

export interface ParsedShardId {
  prefix: string;
  at: Date;
  /** The writer tag; undefined for ids written before writer tags. */
  tag?: string;
  seq: number;
}

/** The prefix, UTC time and writer tag encoded in a shard id, or undefined when it is not one. */
export function parseShardId(id: string): ParsedShardId | undefined {
  const match = ID_PATTERN.exec(id);
  if (!match) return undefined;
  const [, prefix, day, time, tag, seq] = match;
  const at = new Date(
    `${day!.slice(0, 4)}-${day!.slice(4, 6)}-${day!.slice(6, 8)}T${time!.slice(0, 2)}:${time!.slice(2, 4)}:${time!.slice(4, 6)}Z`,
  );
  if (Number.isNaN(at.getTime())) return undefined;
  return { prefix: prefix!, at, ...(tag ? { tag } : {}), seq: seq ? Number(seq) : 1 };
}

const ARCHIVE_EXTENSION: Record<CompressionAlgorithm, string> = {
  zstd: '.tar.zst',
  gzip: '.tar.gz',
  none: '.tar',
};

/**
 * The index object's name: `<id>.index.json.zst`, and `.age`/`.gpg` like the
 * archive when the shard is encrypted. Always zstd, whatever the archive's
 * compression (see archive/index-file.ts).
 */
const INDEX_EXTENSION = '.index.json.zst';

/**
 * Object keys of a shard, relative to the destination's root: the archive, its
 * index (the file list, see archive/index-file.ts) and the sidecar, stored in
 * that order.
 */
export function shardKeys(
  id: string,
  compression: CompressionAlgorithm,
  encryption: 'age' | 'gpg' | null,
): { archive: string; index: string; sidecar: string } {
  const encryptedSuffix = encryption === 'age' ? '.age' : encryption === 'gpg' ? '.gpg' : '';
  return {
    archive: `${id}${ARCHIVE_EXTENSION[compression]}${encryptedSuffix}`,
    index: `${id}${INDEX_EXTENSION}${encryptedSuffix}`,
    sidecar: `${id}${SIDECAR_SUFFIX}`,
  };
}

/** Whether `key` names a shard's index object (not its archive or sidecar). */
export function isIndexKey(key: string): boolean {
  return /\.index\.json\.zst(\.age|\.gpg)?$/.test(key);
}

/** The shard id an archive, index or sidecar key belongs to, if it is one of ours. */
export function shardIdOfKey(key: string): string | undefined {
  const base = key.slice(key.lastIndexOf('/') + 1);
  const match =
    /^(.+?)(\.manifest\.json|\.index\.json\.zst(\.age|\.gpg)?|\.tar(\.zst|\.gz)?(\.age|\.gpg)?)$/.exec(base);
  if (!match || !parseShardId(match[1]!)) return undefined;
  return match[1];
}

/**
 * Every object of a complete shard, archive first, sidecar last (the order a
 * delete goes in: a half-done delete never leaves a sidecar vouching for a
 * missing archive). Shards made before index objects have none.
 */
export function objectKeysOf(manifest: {
  id: string;
  object: { name: string };
  index?: { name: string };
}): string[] {
  return [
    manifest.object.name,
    ...(manifest.index ? [manifest.index.name] : []),
    `${manifest.id}${SIDECAR_SUFFIX}`,
  ];
}
