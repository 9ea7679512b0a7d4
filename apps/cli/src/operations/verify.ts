import {
  chainChecker,
  checkStoredSize,
  type Destination,
  findShard,
  isMatricError,
  type LoadedConfig,
  listShards,
  loadShardOwner,
  MatricError,
  newestOwnShard,
  resolveChain,
  type ShardManifest,
  type ShardOwner,
  selectDestinations,
  type VerifyProgress,
  verifyShard,
  type Warning,
  warning,
} from '@matric-backup/core';
import { onEachDestination } from '../destinations.js';
import { briefError } from '../exit-codes.js';
import { type Sample, sampleIndexes } from './sample.js';

/**
 * A problem as verify reports it: one of a shard's (with the archive path or
 * object it is about), or the error that kept a shard or destination from
 * being read at all (its error code, no path).
 */
export interface VerifyProblem {
  path?: string;
  code: string;
  reason: string;
}

/** One shard on one destination (or a destination that could not be searched: no id). */
export interface VerifyLine {
  destination: string;
  id: string;
  ok: boolean;
  /** Every problem found. */
  problems: VerifyProblem[];
  files_checked: number;
  bytes: number;
  /** A link of the chain of this incremental shard, checked because that one was asked for. */
  link_of?: string;
  /** What could not be checked (an encrypted shard's contents without its key). */
  warnings?: Warning[];
  /**
   * With a sample: whether this shard was read whole (checksum and contents), or
   * only checked without a download (its sidecar, its archive's size, its chain).
   */
  sampled?: boolean;
}

export interface VerifyBackupsOptions {
  /** A shard id or `latest`; default `latest`: this config's newest on each destination. */
  id?: string;
  /** Every complete shard of each destination instead. */
  all?: boolean;
  /** Only these destinations (names); default every enabled one. */
  destinations?: readonly string[];
  /** age identity file; gpg uses `gpgHomedir`. */
  identity?: string;
  gpgHomedir?: string;
  refuseEscapingLinks?: boolean;
  /**
   * Read only this share of the shards whole, chosen at random on each
   * destination; every other shard gets the checks that need no download. Without
   * an id it selects every shard, as `all` does.
   */
  sample?: Sample;
  /** The sample's randomness; default Math.random. */
  random?: () => number;
  /** Called as each shard's check starts; what it returns hears the bytes read and the end. */
  onShardStart?: (destination: string, id: string) => ShardProgress;
  /** A shard's warning (its contents not checked without a key, ...). */
  onWarning?: (destination: string, id: string, warning: string) => void;
  /** Each line as soon as it is known. */
  onLine?: (line: VerifyLine) => void;
}

interface ShardProgress {
  update(progress: VerifyProgress): void;
  stop(): void;
}

export interface VerifyReport {
  lines: VerifyLine[];
  /** Hints of the errors that failed a shard (a key that does not fit, ...), each once. */
  hints: string[];
}

/**
 * Re-reads the selected shards of each destination, one destination and one
 * shard at a time; nothing printed. Throws SHARD_NOT_FOUND when a named shard
 * is on none of the destinations.
 */
export async function verifyBackups(
  config: LoadedConfig,
  options: VerifyBackupsOptions,
): Promise<VerifyReport> {
  const owner = await loadShardOwner(config);
  const { id } = options;
  const lines: VerifyLine[] = [];
  const hints = new Set<string>();
  const add = (destination: string, line: Omit<VerifyLine, 'destination'>) => {
    const entry = { destination, ...line };
    lines.push(entry);
    options.onLine?.(entry);
  };
  const outcomes = await onEachDestination(
    config,
    selectDestinations(config, options.destinations),
    async (opened, { name }) => {
      const every = options.all === true || (options.sample !== undefined && id === undefined);
      const selected = await selectShards(opened, every ? 'all' : (id ?? 'latest'), owner);
      if (selected === 'absent') return;
      if (selected.shards.length === 0) {
        const none = { code: 'SHARD_NOT_FOUND', reason: 'no complete shard' };
        add(name, { id: '', ok: false, problems: [none], files_checked: 0, bytes: 0 });
        return;
      }
      const { shards, chain } = await withChains(opened, name, selected);
      const sampled = options.sample
        ? new Set(
            sampleIndexes(shards.length, options.sample, options.random).map((index) => shards[index]!.id),
          )
        : undefined;
      for (const manifest of shards) {
        const linkProblems = chain.get(manifest.id) ?? [];
        const linkOf = selected.asked && manifest.id !== selected.asked && { link_of: selected.asked };
        if (sampled && !sampled.has(manifest.id)) {
          const problems = [...(await checkStoredSize(opened, manifest)), ...linkProblems];
          add(name, {
            id: manifest.id,
            ok: problems.length === 0,
            problems,
            files_checked: 0,
            bytes: 0,
            ...linkOf,
            sampled: false,
          });
          continue;
        }
        const progress = options.onShardStart?.(name, manifest.id);
        const result = await verifyShard(opened, manifest, {
          identity: options.identity,
          gpgHomedir: options.gpgHomedir,
          refuseEscapingLinks: options.refuseEscapingLinks,
          onProgress: (read) => progress?.update(read),
        })
          .finally(() => progress?.stop())
          .catch((error: unknown) => {
            if (isMatricError(error) && error.hint) hints.add(error.hint);
            return { id: manifest.id, ok: false, problems: [errorProblem(error)], filesChecked: 0, bytes: 0 };
          });
        const warnings = ('warnings' in result ? result.warnings : []).map((text) =>
          warning('NOT_CHECKED', text, { destination: name, shard: manifest.id }),
        );
        for (const { message } of warnings) options.onWarning?.(name, manifest.id, message);
        add(name, {
          id: manifest.id,
          ok: result.ok && linkProblems.length === 0,
          problems: [...result.problems, ...linkProblems],
          files_checked: result.filesChecked,
          bytes: result.bytes,
          ...linkOf,
          ...(sampled && { sampled: true }),
          ...(warnings.length > 0 && { warnings }),
        });
      }
    },
    { oneAtATime: true },
  );
  for (const outcome of outcomes) {
    if (!outcome.ok) {
      const problems = [errorProblem(outcome.error)];
      add(outcome.destination.name, { id: id ?? '', ok: false, problems, files_checked: 0, bytes: 0 });
    }
  }
  if (lines.length === 0)
    throw new MatricError('SHARD_NOT_FOUND', `shard "${id}" is on none of the destinations searched`);
  return { lines, hints: [...hints] };
}

interface Selected {
  shards: ShardManifest[];
  /** One shard was asked for (an id or latest): its id. */
  asked?: string;
  /** Every complete shard of the destination, when all are verified. */
  complete?: ShardManifest[];
}

/** The shards to verify on one destination; 'absent' when a named shard simply is not there. */
async function selectShards(
  destination: Destination,
  which: string,
  owner: ShardOwner,
): Promise<Selected | 'absent'> {
  if (which === 'all') {
    const { complete } = await listShards(destination);
    return { shards: complete, complete };
  }
  try {
    const latest = (complete: ShardManifest[]) => newestOwnShard(complete, owner, new Date()).newest;
    const manifest = await findShard(destination, which, { latest });
    return { shards: [manifest], asked: manifest.id };
  } catch (error) {
    if (!(isMatricError(error) && error.code === 'SHARD_NOT_FOUND')) throw error;
    return which === 'latest' ? { shards: [] } : 'absent';
  }
}

/**
 * An incremental shard is only as good as its chain. One shard asked for: every
 * link of its chain is verified too, base first (a broken chain is a problem of
 * the shard asked for, naming the link). Every shard: each incremental's chain
 * must be whole among the destination's complete shards.
 */
async function withChains(
  destination: Destination,
  name: string,
  selected: Selected,
): Promise<{ shards: ShardManifest[]; chain: Map<string, VerifyProblem[]> }> {
  const chain = new Map<string, VerifyProblem[]>();
  if (selected.complete) {
    const chainProblems = chainChecker(selected.complete);
    for (const manifest of selected.shards) {
      const problems = chainProblems(manifest);
      if (problems.length > 0) chain.set(manifest.id, problems);
    }
    return { shards: selected.shards, chain };
  }
  const [asked] = selected.shards;
  if (asked?.type !== 'incremental') return { shards: selected.shards, chain };
  try {
    return { shards: await resolveChain(destination, asked, { destination: name }), chain };
  } catch (error) {
    if (!(isMatricError(error) && error.code === 'VERIFY_FAILED')) throw error;
    chain.set(asked.id, [{ code: 'CHAIN', reason: error.message }]);
    return { shards: selected.shards, chain };
  }
}

/** An error that kept a shard or a destination from being checked, as a problem of no one path. */
function errorProblem(error: unknown): VerifyProblem {
  const code = (error as { code?: unknown })?.code;
  return { code: typeof code === 'string' ? code : 'UNKNOWN', reason: briefError(error) };
}
