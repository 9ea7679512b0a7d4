import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Destination } from '@matric-backup/plugin-api';
import { DestinationError, isDestinationError, isMatricError, MatricError } from '@matric-backup/plugin-api';
import picomatch from 'picomatch';
import { chainFieldProblems } from '../shard/chain.js';
import type { ContentsCheck, SeenEntry } from '../shard/contents.js';
import { decryptStreamFor, isDecryptFailure, isKeyMismatch, type ShardKeys } from '../shard/decode.js';
import { type EscapingLink, RefusedEntry } from '../shard/entry-guard.js';
import { LimitExceededError, shardLimits, undeclaredLimits } from '../shard/limits.js';
import {
  INNER_MANIFEST_NAME,
  type InnerManifest,
  type InnerManifestEntry,
  type ShardManifest,
} from '../shard/manifest.js';
import { parseInnerManifest } from '../shard/manifest-schema.js';
import {
  describeProblem,
  innerManifestMissing,
  innerManifestUnreadable,
  problem,
  type ShardProblem,
} from '../shard/problem.js';
import { type Warning, warning } from '../util/warning.js';
import { ChainTree } from './chain-tree.js';
import { type Extracted, extractArchive } from './extract.js';
import type { AppendTree } from './file-writer.js';
import { applyEntryMetadata, applyFolderMetadata, type MetadataOptions } from './metadata.js';
import { moveIntoTarget } from './move.js';
import { overlayIncrement } from './overlay.js';
import { ownerResolver } from './owners.js';
import {
  archivePath,
  describeTargets,
  entriesUnder,
  type Placement,
  pathUnder,
  placementsInPlace,
  placementUnder,
} from './placement.js';
import {
  type ConflictStrategy,
  type PlannedChange,
  planRestore,
  type RestoreAction,
  type RestorePlan,
} from './plan.js';
import { inspectTarget, type StagedTarget, stageTarget, type TargetState } from './target.js';

export interface RestoreProgress {
  /** Bytes of the stored object read so far. */
  bytes: number;
  /** Size of the stored object. */
  total: number;
  /** Files extracted so far. */
  files: number;
}

export interface RestoreOptions extends ShardKeys {
  /** Where the stored object is read from (a destination, or a local file). */
  from: Pick<Destination, 'get'>;
  manifest: ShardManifest;
  /**
   * For an incremental shard: its chain, base first, ending with `manifest`
   * (see resolveChain). Each link is read, checked and extracted in turn, and
   * laid over the ones before it; the restore then places the tree at
   * `manifest`'s time as it would a full shard's.
   */
  chain?: readonly ShardManifest[];
  /** Target folder: new or empty, or anything with a `conflict` strategy. Required without `inPlace`. */
  to?: string;
  /**
   * Put each directory source back at the path it was read from (recorded in
   * the manifests), with the same checks and conflict strategies as `to`.
   * Command sources are left out. Needs the sidecar.
   */
  inPlace?: boolean;
  /** Restore only archive paths matching one of these globs (a matching folder brings all it holds). */
  include?: readonly string[];
  /** What to do with entries that exist in the target; without one, the target must be new or empty. */
  conflict?: ConflictStrategy;
  /** Read and check everything and report what would change, writing nothing. */
  dryRun?: boolean;
  /** Refuse once the files to restore add up to more than this many bytes. */
  maxBytes?: number;
  /**
   * Give entries their recorded owner and group, keeping setuid/setgid bits.
   * Default: yes when running as root (only root can), no otherwise; true
   * without root is refused.
   */
  preserveOwner?: boolean;
  /** With owners kept: use the recorded ids, not the local ids of the recorded user and group names. */
  numericOwner?: boolean;
  /**
   * Refuse the shard when a symbolic link to restore leads outside the target
   * (for archives from untrusted places); by default links are restored as they
   * are, whatever they point to, and nothing is ever written through one.
   */
  refuseEscapingLinks?: boolean;
  /**
   * The manifest was made up from a file name, no sidecar vouches for the
   * object: its size and checksum are not checked (the files still are, against
   * the manifest inside the archive) and only `maxBytes` bounds the output.
   */
  withoutSidecar?: boolean;
  onProgress?: (progress: RestoreProgress) => void;
}

export interface RestoreResult {
  /** The shard's id (from the inner manifest when there was no sidecar). */
  id: string;
  /** An incremental shard: the ids of the chain restored, base first, ending with `id`. */
  chain?: string[];
  /** Absolute path of the target folder; in place, each source's path, comma-separated. */
  to: string;
  /** Restored in place: each source at its recorded path. */
  inPlace?: boolean;
  dryRun: boolean;
  conflict?: ConflictStrategy;
  /** Entries created, overwritten or renamed (would be, in a dry run). */
  files: number;
  directories: number;
  symlinks: number;
  /** Sum of those files' sizes. */
  bytes: number;
  /** Bytes of the stored object read. */
  objectBytes: number;
  durationMs: number;
  /** Entries per action. */
  summary: Record<RestoreAction, number>;
  /** Every selected entry and its action, parents first; folders that existed already are not listed. */
  changes: PlannedChange[];
  /** What was not checked (no sidecar), for the user to know. */
  warnings: Warning[];
}

/** At most this many problems go into an error message; verify lists them all. */
const PROBLEMS_IN_MESSAGE = 10;

/**
 * Restores a shard into `to`, or each directory source at its recorded path
 * (`inPlace`: each such path is a target of its own, with its own temporary
 * folder). Everything is extracted into a temporary folder beside the
 * target and checked first: the stored object's sha256, every entry's safety
 * (EntryGuard), every file against the inner manifest. Then the plan decides,
 * by the conflict strategy, what each entry does and refuses if anything stands
 * in the way; only then are entries renamed into the target (undone in reverse
 * if a rename fails). On any failure the target is left as it was (absent stays
 * absent). A dry run does the reading, checking and planning, and writes nothing.
 */
export async function restoreShard(options: RestoreOptions): Promise<RestoreResult> {
  const { manifest } = options;
  const started = Date.now();
  checkOptions(options);
  const metadata: MetadataOptions = {
    ...((options.preserveOwner ?? isRoot()) && { ownerOf: ownerResolver(options.numericOwner === true) }),
  };
  const { placements, notes } = placementsOf(options);
  const shown = describeTargets(placements);
  const links = options.chain ?? [manifest];
  // Asked first, before any target is touched: a wrong key fails here.
  const firstDecrypt = await decryptStreamFor(links[0]!, options);
  const included = selection(options.include);
  const selected = options.inPlace
    ? (path: string) =>
        included(path) && placements.some((placement) => pathUnder(placement, path) !== undefined)
    : included;
  const targets: Target[] = [];
  for (const placement of placements) {
    const state = await inspectTarget(placement.to, options.conflict).catch((error: unknown) => {
      throw asRestoreError(manifest, placement.to, error);
    });
    targets.push({ placement, state });
  }
  let moved = false;
  try {
    if (!options.dryRun) for (const target of targets) target.staged = await stageTarget(target.state);
    const { inner, writtenAs, objectBytes } = await extractLinks(links, targets, options, {
      selected,
      shown,
      ownerOf: metadata.ownerOf,
      firstDecrypt,
    });
    if (options.inPlace) checkOrigins(manifest, inner, placements, shown);
    const plans = targets.map((target) => {
      const { placement, state, staged } = target;
      const { entries, root } = entriesUnder(placement, inner, selected);
      const under = (path: string) => selected(archivePath(placement, path));
      if (staged) {
        const problems = applyEntryMetadata(staged.temp, { ...inner, entries }, under, metadata, (path) =>
          writtenAs(archivePath(placement, path)),
        );
        if (problems.length > 0) throw verifyFailed(manifest, shown, problems);
      }
      const plan = planRestore({
        entries,
        selected: under,
        target: state.target,
        targetExists: state.exists,
        strategy: options.conflict,
        id: inner.id,
        device: staged?.device,
      });
      return { target, plan, root };
    });
    if (!options.dryRun) {
      moveIntoTarget(
        plans.map(({ target, plan }) => ({ plan, temp: target.staged!.temp, target: target.state.target })),
      );
      moved = true;
      for (const { target, plan, root } of plans) {
        applyFolderMetadata(target.state.target, plan.newDirectories, metadata);
        if (!target.state.exists && root) giveRootMetadata(target, root, metadata);
        await target.staged!.cleanup(false);
      }
    }
    return result(options, inner, mergePlans(plans), shown, objectBytes, started, notes);
  } catch (error) {
    if (moved) {
      for (const target of targets) await target.staged?.cleanup(false).catch(() => undefined);
      throw new MatricError(
        'UNKNOWN',
        `restored into ${shown}, but setting folder modes and times failed: ${(error as Error).message}`,
        { cause: error },
      );
    }
    for (const target of targets) await target.staged?.cleanup(true);
    throw asRestoreError(manifest, shown, error);
  }
}

/** One placement's target folder, as inspected, and its temporary folder. */
interface Target {
  placement: Placement;
  state: TargetState;
  staged?: StagedTarget;
}

interface LinkContext {
  selected: (path: string) => boolean;
  shown: string;
  ownerOf: MetadataOptions['ownerOf'];
  /** The first link's decryptor, made before anything was touched. */
  firstDecrypt: Awaited<ReturnType<typeof decryptStreamFor>>;
}

interface ExtractedLinks {
  /** The tree to restore: the shard's inner manifest, or for a chain the links laid over each other. */
  inner: InnerManifest;
  /** The mode and mtime a file was given as it was written (by the link that holds it). */
  writtenAs: (path: string) => SeenEntry['written'];
  /** Bytes of the stored objects read. */
  objectBytes: number;
}

/**
 * Reads, checks and extracts each link of the chain in turn (a full shard is
 * a chain of one): the base into each target's temporary folder, each
 * incremental into a folder of its own inside it, then laid over the tree so
 * far (overlayIncrement). Every link must pass the same checks as a full
 * shard, and name the link before it in its inner manifest; the first that
 * does not fails the restore, naming it, before anything in the target changed.
 */
async function extractLinks(
  links: readonly ShardManifest[],
  targets: readonly Target[],
  options: RestoreOptions,
  context: LinkContext,
): Promise<ExtractedLinks> {
  const { selected, shown } = context;
  const isChain = links.length > 1;
  const total = links.reduce((sum, link) => sum + link.object.size, 0);
  // A chain's files were written by the link that holds them last. A single shard's are all its own:
  // no map of every path (~3 MB for 30,000 files, at the end of the restore, where its peak is).
  const providers = new Map<string, ContentsCheck>();
  let only: ContentsCheck | undefined;
  let tree: ChainTree | undefined;
  let last: InnerManifest | undefined;
  let objectBytes = 0;
  let files = 0;
  for (const [index, link] of links.entries()) {
    try {
      const linkOptions = { ...options, manifest: link };
      // The base goes straight into the temporary folders; later links beside it, then over it.
      const folders = index === 0 ? undefined : targets.map((target) => linkFolder(target));
      const roots = folders ?? targets.map((target) => target.staged?.temp);
      const read = objectBytes;
      const readFiles = files;
      const extracted = await extractArchive(await options.from.get(link.object.name), link, roots[0], {
        select: selected,
        limits: options.withoutSidecar ? undeclaredLimits(options.maxBytes) : shardLimits(link),
        decrypt: index === 0 ? context.firstDecrypt : await decryptStreamFor(link, options),
        maxBytes: options.maxBytes,
        refuseEscapingLinks: options.refuseEscapingLinks,
        ownerOf: context.ownerOf,
        ...(options.inPlace &&
          !options.dryRun && {
            sourceRoots: Object.fromEntries(
              targets.map((target, at) => [target.placement.source!, roots[at]!]),
            ),
          }),
        ...(index > 0 && !options.dryRun && { tree: appendTree(targets, options.inPlace === true) }),
        // A made-up manifest (no sidecar) counts nothing.
        ...(!options.withoutSidecar && {
          entries: link.counts.files + link.counts.directories + link.counts.symlinks,
        }),
        onChunk: (bytes, written) => {
          objectBytes = read + bytes;
          files = readFiles + written;
          options.onProgress?.({ bytes: objectBytes, total, files });
        },
      });
      objectBytes = read + extracted.digest.bytes;
      const inner = checked(extracted, linkOptions, shown, selected, isChain);
      if (isChain) checkLinkOrder(links, index, inner, shown);
      if (isChain) for (const entry of inner.entries) providers.set(entry.path, extracted.contents);
      else only = extracted.contents;
      if (index === 0) tree = isChain ? new ChainTree(inner) : undefined;
      else {
        const misfits = tree!.apply(inner);
        if (misfits.length > 0) throw verifyFailed(link, shown, misfits);
        targets.forEach((target, at) => {
          if (!target.staged) return;
          overlayIncrement({
            tree: target.staged.temp,
            increment: folders![at]!,
            ...partUnder(target, inner, selected),
          });
          rmSync(folders![at]!, { recursive: true, force: true });
        });
      }
      last = inner;
    } catch (error) {
      throw isChain ? asLinkError(error, links, index, shown) : error;
    }
  }
  const inner = tree ? tree.manifest(last!) : last!;
  if (isChain) checkChainResult(inner, options);
  return {
    inner,
    writtenAs: (path) => (only ?? providers.get(path))?.get(path)?.written,
    objectBytes,
  };
}

/**
 * A link's failure says which link of which chain it is, keeping its code and
 * cause (restoreFromLocations decides by them whether another copy may do).
 */
function asLinkError(error: unknown, links: readonly ShardManifest[], index: number, shown: string): unknown {
  const link = links[index]!;
  const asked = links[links.length - 1]!;
  const which = `${link.id} (link ${index + 1} of ${links.length} of the chain of ${asked.id})`;
  if (error instanceof RefusedEntry || error instanceof LimitExceededError) {
    return new MatricError(
      'RESTORE_REFUSED',
      `shard ${which} is unsafe to restore: ${error.message}; ${shown} left unchanged`,
      {
        hint: `inspect it with \`matric-backup verify ${asked.id}\``,
        cause: error,
      },
    );
  }
  if (isDestinationError(error)) {
    // Still this copy's problem (another destination's may do), now naming the link.
    return new DestinationError(error.code, `shard ${which}: ${link.object.name}: ${error.message}`, {
      hint:
        error.hint ??
        `restore from another destination (-d), or check ${link.id} with \`matric-backup verify\``,
      cause: error,
      retryable: error.retryable,
      ...(error.destination !== undefined && { destination: error.destination }),
    });
  }
  // Labelled by this link, not by the shard asked for: an unreadable archive is this link's.
  const labelled = asRestoreError(link, shown, error);
  if (!isMatricError(labelled) || link.id === asked.id || !labelled.message.startsWith(`shard ${link.id} `))
    return labelled;
  return new MatricError(
    labelled.code,
    `shard ${which}${labelled.message.slice(`shard ${link.id}`.length)}`,
    {
      hint: labelled.hint,
      cause: labelled.cause,
    },
  );
}

/** Where the tree of the links so far is: each target's temporary folder (per source in place). */
function appendTree(targets: readonly Target[], inPlace: boolean): AppendTree {
  return {
    root: targets[0]!.staged!.temp,
    ...(inPlace && {
      sourceRoots: Object.fromEntries(
        targets.map((target) => [target.placement.source!, target.staged!.temp]),
      ),
    }),
  };
}

/** A folder of its own for an incremental, inside the target's temporary folder (removed with it). */
function linkFolder(target: Target): string | undefined {
  return target.staged && mkdtempSync(join(target.staged.temp, '.matric-link-'));
}

/** An incremental's extracted (selected) entries and its deletions under one target, relative to it. */
function partUnder(
  target: Target,
  inner: InnerManifest,
  selected: (path: string) => boolean,
): { entries: InnerManifestEntry[]; deleted: string[] } {
  const { placement } = target;
  return {
    entries: entriesUnder(placement, inner).entries.filter((entry) =>
      selected(archivePath(placement, entry.path)),
    ),
    deleted: (inner.deleted ?? []).flatMap((path) => {
      const under = pathUnder(placement, path);
      return under ? [under] : [];
    }),
  };
}

/** Each incremental names the link before it, in the manifest the checksum covers. */
function checkLinkOrder(
  links: readonly ShardManifest[],
  index: number,
  inner: InnerManifest,
  shown: string,
): void {
  const link = links[index]!;
  const before = links[index - 1];
  const expected = before ? `an incremental shard of parent ${before.id}` : 'a full shard';
  const fits = before
    ? inner.type === 'incremental' && inner.parent === before.id
    : inner.type !== 'incremental';
  if (!fits) {
    throw verifyFailed(link, shown, [
      `${INNER_MANIFEST_NAME}: the chain needs ${expected} here, the archive says ${inner.type === 'incremental' ? `an incremental shard of parent ${inner.parent}` : 'a full shard'}`,
    ]);
  }
}

/** What a full shard's checks say before extraction, a chain's say of the tree it adds up to. */
function checkChainResult(inner: InnerManifest, options: RestoreOptions): void {
  const included = selection(options.include);
  if (options.include && !inner.entries.some((entry) => included(entry.path)))
    throw nothingIncluded(inner, options);
  if (options.maxBytes === undefined) return;
  const bytes = inner.entries.reduce(
    (sum, entry) =>
      sum + (entry.type === 'file' && !entry.hardlink && included(entry.path) ? (entry.size ?? 0) : 0),
    0,
  );
  if (bytes > options.maxBytes) {
    throw new MatricError(
      'RESTORE_REFUSED',
      `shard ${inner.id} holds ${bytes} bytes of files to restore, more than --max-bytes ${options.maxBytes}`,
      { hint: 'raise --max-bytes, or restore part of the shard with --include GLOB' },
    );
  }
}

function nothingIncluded(inner: InnerManifest, options: RestoreOptions): MatricError {
  return new MatricError(
    'RESTORE_REFUSED',
    `nothing in shard ${inner.id} matches ${options.include!.join(', ')}`,
    {
      hint: 'include globs match archive paths, which start with the source name, e.g. notes/**',
    },
  );
}

/**
 * `--to DIR`, or every directory source at its recorded path (`--in-place`),
 * leaving out those no `--include` glob can reach (their first segment does
 * not match the source name), so that their targets are not checked.
 */
function placementsOf(options: RestoreOptions): { placements: Placement[]; notes: Warning[] } {
  if (!options.inPlace) return { placements: placementUnder(options.to!), notes: [] };
  const { placements, skipped } = placementsInPlace(options.manifest);
  const reachable = (source: string) =>
    !options.include?.length ||
    options.include.some((glob) => picomatch(glob.split('/')[0]!, { dot: true })(source));
  const chosen = placements.filter((placement) => reachable(placement.source!));
  if (chosen.length === 0) {
    throw new MatricError(
      'RESTORE_REFUSED',
      options.include?.length
        ? `--include ${options.include.join(', ')} matches no directory source of shard ${options.manifest.id}: nothing to restore in place`
        : `shard ${options.manifest.id} has no directory source: nothing to restore in place`,
      {
        hint: 'include globs start with the source name, e.g. etc/**; command output can be restored with --to DIR',
      },
    );
  }
  const notes = skipped
    .filter(reachable)
    .map((name) =>
      warning(
        'SOURCE_NOT_RESTORED',
        `source ${name} is a command's output, with no place of its own: left out (restore it with --to DIR)`,
        { source: name },
      ),
    );
  return { placements: chosen, notes };
}

/**
 * The sidecar said where each source goes; the manifest inside the archive
 * (covered by the object's checksum, and by the encryption) must say the same,
 * or an edited sidecar could send a source anywhere.
 */
function checkOrigins(
  manifest: ShardManifest,
  inner: InnerManifest,
  placements: readonly Placement[],
  shown: string,
): void {
  const problems = placements.flatMap((placement) => {
    const recorded = inner.origins?.find((origin) => origin.name === placement.source)?.path;
    return recorded === placement.to
      ? []
      : [
          `source ${placement.source}: the sidecar says it came from ${placement.to}, ${INNER_MANIFEST_NAME} ${recorded === undefined ? 'does not say' : `says ${recorded}`}`,
        ];
  });
  if (problems.length > 0) throw verifyFailed(manifest, shown, problems);
}

/**
 * A target that did not exist is the temporary folder renamed (0700): it gets
 * the source folder's mode. In place it is the source folder, with its owner
 * and mtime too; under `--to` it only holds the source folders.
 */
function giveRootMetadata(target: Target, root: InnerManifestEntry, metadata: MetadataOptions): void {
  if (target.placement.source !== undefined) {
    applyFolderMetadata(target.state.target, [{ path: '', entry: root }], metadata);
  } else {
    chmodSync(target.state.target, root.mode & 0o1777);
  }
}

/** The placements' plans as one, with archive paths. */
function mergePlans(
  plans: ReadonlyArray<{ target: Target; plan: RestorePlan }>,
): Pick<RestorePlan, 'changes' | 'summary' | 'bytes'> {
  // `--to DIR`: the plan's paths are archive paths already, no copy of every change needed.
  if (plans.length === 1 && plans[0]!.target.placement.source === undefined) return plans[0]!.plan;
  const merged: Pick<RestorePlan, 'changes' | 'summary' | 'bytes'> = {
    changes: [],
    summary: { create: 0, overwrite: 0, skip: 0, rename: 0 },
    bytes: 0,
  };
  for (const { target, plan } of plans) {
    merged.bytes += plan.bytes;
    const { placement } = target;
    for (const change of plan.changes) {
      merged.changes.push({
        ...change,
        path: archivePath(placement, change.path),
        ...(change.as !== undefined && { as: archivePath(placement, change.as) }),
      });
    }
    for (const action of Object.keys(merged.summary) as RestoreAction[])
      merged.summary[action] += plan.summary[action];
  }
  return merged;
}

function checkOptions(options: RestoreOptions): void {
  if (options.preserveOwner && !isRoot()) {
    throw new MatricError('USAGE', '--preserve-owner needs root: only root can give files to other users', {
      hint: 'run the restore as root, or leave out --preserve-owner (files then belong to you)',
    });
  }
  if (options.numericOwner && !(options.preserveOwner ?? isRoot())) {
    throw new MatricError('USAGE', '--numeric-owner applies only when owners are kept', {
      hint: 'owners are kept when restoring as root, unless --no-preserve-owner is given',
    });
  }
  if ((options.inPlace === true) === (options.to !== undefined)) {
    throw new MatricError('USAGE', 'say where to restore: --to DIR, or --in-place (not both)');
  }
  if (options.inPlace && options.withoutSidecar) {
    throw new MatricError(
      'USAGE',
      "--in-place needs the shard's sidecar manifest (<id>.manifest.json) beside the file: it says where each source goes",
      { hint: 'put the sidecar beside the shard file, restore from a destination, or use --to DIR' },
    );
  }
  const { manifest, maxBytes } = options;
  if (
    maxBytes !== undefined &&
    !options.include &&
    !options.withoutSidecar &&
    manifest.type === 'full' &&
    manifest.size_bytes > maxBytes
  ) {
    throw new MatricError(
      'RESTORE_REFUSED',
      `shard ${manifest.id} holds ${manifest.size_bytes} bytes of files, more than --max-bytes ${maxBytes}`,
      { hint: 'raise --max-bytes, or restore part of the shard with --include GLOB' },
    );
  }
}

/**
 * The inner manifest, once the stored object and every selected file have
 * passed their checks; otherwise the error that says what failed.
 */
function checked(
  extracted: Extracted,
  options: RestoreOptions,
  target: string,
  selected: (path: string) => boolean,
  isChain: boolean,
): InnerManifest {
  const { manifest } = options;
  const fail = (problems: ShardProblem[]) => verifyFailed(manifest, target, problems.map(describeProblem));
  // Without a sidecar there is nothing to compare the object with.
  const objectProblems = options.withoutSidecar ? [] : extracted.digest.problems(manifest);
  const { failure } = extracted;
  if (failure !== undefined) {
    // Damaged ciphertext was read to its end: a checksum mismatch says the copy is bad, not the key.
    if (isDecryptFailure(failure) && !isKeyMismatch(failure) && objectProblems.length > 0) {
      throw fail([...objectProblems, problem(manifest.object.name, 'ARCHIVE_UNREADABLE', failure.message)]);
    }
    throw failure;
  }
  // The whole object's checksum first: nothing in it counts before that holds.
  if (objectProblems.length > 0) throw fail(objectProblems);
  if (extracted.innerJson === undefined) throw fail([innerManifestMissing()]);
  let inner: InnerManifest;
  try {
    inner = parseInnerManifest(extracted.innerJson);
  } catch (error) {
    throw fail([innerManifestUnreadable(error)]);
  }
  const expectedId = options.withoutSidecar ? inner.id : manifest.id;
  const contentProblems = [
    ...extracted.contents.compare(inner, expectedId, selected),
    ...(options.withoutSidecar ? [] : chainFieldProblems(manifest, inner)),
  ];
  if (contentProblems.length > 0) throw fail(contentProblems);
  if (options.withoutSidecar && inner.type === 'incremental') throw incrementalAlone(inner, target);
  if (extracted.escapingLinks) throw escapingLinksRefused(manifest, target, extracted.escapingLinks);
  // A chain's links each hold part of the tree: what matters is what they add up to (checkChainResult).
  if (!isChain && options.include && !inner.entries.some((entry) => selected(entry.path))) {
    throw nothingIncluded(inner, options);
  }
  return inner;
}

/** An incremental archive restored by its file alone: it holds only what changed. */
function incrementalAlone(inner: InnerManifest, target: string): MatricError {
  return new MatricError(
    'RESTORE_REFUSED',
    `${inner.id} is an incremental shard: it holds only what changed since ${inner.parent}, and cannot be restored alone; ${target} left unchanged`,
    {
      hint: `put its sidecar (${inner.id}.manifest.json) beside it, with the archives and sidecars of its chain down to the full shard ${inner.base}, or restore it from a destination`,
    },
  );
}

function result(
  options: RestoreOptions,
  inner: InnerManifest,
  plan: Pick<RestorePlan, 'changes' | 'summary' | 'bytes'>,
  to: string,
  objectBytes: number,
  started: number,
  notes: Warning[],
): RestoreResult {
  const counts = { files: 0, directories: 0, symlinks: 0, bytes: plan.bytes };
  for (const change of plan.changes) {
    if (change.action === 'skip') continue;
    if (change.kind === 'file') counts.files++;
    else if (change.kind === 'directory') counts.directories++;
    else counts.symlinks++;
  }
  return {
    id: inner.id,
    ...(options.chain && options.chain.length > 1 && { chain: options.chain.map((link) => link.id) }),
    to,
    ...(options.inPlace && { inPlace: true }),
    dryRun: options.dryRun === true,
    ...(options.conflict && { conflict: options.conflict }),
    ...counts,
    objectBytes,
    durationMs: Date.now() - started,
    summary: plan.summary,
    changes: plan.changes,
    warnings: [
      ...notes,
      ...(options.withoutSidecar
        ? [
            warning(
              'NOT_CHECKED',
              "no sidecar manifest: the archive's size and checksum were not checked against one; every file was checked against the manifest inside the archive",
            ),
          ]
        : []),
    ],
  };
}

function isRoot(): boolean {
  return process.getuid?.() === 0;
}

/** Include globs as a predicate on archive paths; a path is in when it or a parent folder matches. */
function selection(include: readonly string[] | undefined): (path: string) => boolean {
  if (!include || include.length === 0) return () => true;
  const matches = picomatch([...include], { dot: true });
  return (path) => {
    for (let end = path.length; end > 0; end = path.lastIndexOf('/', end - 1)) {
      if (matches(path.slice(0, end))) return true;
    }
    return false;
  };
}

function asRestoreError(manifest: ShardManifest, target: string, error: unknown): unknown {
  if (error instanceof RefusedEntry || error instanceof LimitExceededError) {
    return new MatricError(
      'RESTORE_REFUSED',
      `shard ${manifest.id} is unsafe to restore: ${error.message}; ${target} left unchanged`,
      {
        hint: 'the archive was tampered with or not written by matric-backup; inspect it with `matric-backup verify`',
        cause: error,
      },
    );
  }
  if (isMatricError(error)) return error;
  const { code, syscall } = (error ?? {}) as NodeJS.ErrnoException;
  if (syscall) {
    // The local file system, not the shard: say so, or the CLI would try another destination's copy.
    const errorCode =
      code === 'ENOSPC'
        ? 'NO_SPACE'
        : code === 'EACCES' || code === 'EPERM'
          ? 'PERMISSION_DENIED'
          : 'UNKNOWN';
    return new MatricError(
      errorCode,
      `cannot restore into ${target}: ${(error as Error).message}; ${target} left unchanged`,
      {
        cause: error,
        hint:
          errorCode === 'NO_SPACE'
            ? `the restore needs ${manifest.size_bytes} bytes free beside ${target}`
            : errorCode === 'PERMISSION_DENIED'
              ? `this user must be able to write ${target}, or create it in ${dirname(target)} when it does not exist yet: create ${target} (owned by you) first, or choose another --to`
              : undefined,
      },
    );
  }
  return verifyFailed(
    manifest,
    target,
    [`${manifest.object.name}: archive unreadable: ${(error as Error).message}`],
    error,
  );
}

/** --refuse-escaping-links: the shard is sound, the user chose not to restore links leading out. */
function escapingLinksRefused(manifest: ShardManifest, target: string, links: EscapingLink[]): MatricError {
  const shown = links.slice(0, PROBLEMS_IN_MESSAGE).map((link) => link.message);
  const more = links.length > shown.length ? `\n  ... and ${links.length - shown.length} more` : '';
  return new MatricError(
    'RESTORE_REFUSED',
    `shard ${manifest.id} holds symbolic links leading outside the target, refused by --refuse-escaping-links; ${target} left unchanged:\n  ${shown.join('\n  ')}${more}`,
    {
      hint: 'restore without --refuse-escaping-links to get the links back as links (nothing is ever written through one), or leave them out with --include',
      cause: links[0],
    },
  );
}

function verifyFailed(
  manifest: ShardManifest,
  target: string,
  problems: string[],
  cause?: unknown,
): MatricError {
  const shown = problems.slice(0, PROBLEMS_IN_MESSAGE);
  const more = problems.length > shown.length ? `\n  ... and ${problems.length - shown.length} more` : '';
  return new MatricError(
    'VERIFY_FAILED',
    `shard ${manifest.id} failed its checks; ${target} left unchanged:\n  ${shown.join('\n  ')}${more}`,
    {
      hint: `run \`matric-backup verify ${manifest.id}\` for the full list, or restore from another destination (-d)`,
      cause,
    },
  );
}
