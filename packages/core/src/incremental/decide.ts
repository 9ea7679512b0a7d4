import type { Destination } from '@matric-backup/plugin-api';
import { DEFAULT_INCREMENTAL_POLICY } from '../config/schema.js';
import type { LoadedConfig } from '../config/types.js';
import { newestOwnShard } from '../retention/latest.js';
import { shardOwnerOf } from '../retention/owner-of.js';
import { isOwnShard } from '../retention/ownership.js';
import { listShards } from '../shard/catalog.js';
import type { ShardManifest, ShardType } from '../shard/manifest.js';
import type { SourceOrigin } from '../sources/types.js';
import { parseDuration } from '../util/duration.js';
import { type FileList, fileListPath, readFileList } from './file-list.js';

/** What this run stores: everything, or what changed since `parent`. */
export type ShardPlan =
  | {
      type: 'full';
      /** Why an incremental shard was wanted but this one is full; absent when a full one was asked for. */
      reason?: string;
      /** Whether the run records its file list for later incrementals. */
      recordList: boolean;
    }
  | {
      type: 'incremental';
      parent: ShardManifest;
      base: string;
      chainLength: number;
      /** The file list at the parent's time. */
      list: FileList;
      recordList: true;
    };

export interface PlanInput {
  config: LoadedConfig;
  /** `run --type`; default: incremental when backup.incremental is set, else full. */
  requested?: ShardType;
  /** The destinations this run stores on, opened. */
  destinations: ReadonlyArray<{ name: string; destination: Destination }>;
  origins: SourceOrigin[];
  now: Date;
}

/**
 * Full or incremental. An incremental is made only when this config's file
 * list in the state folder describes the newest shard of this config on every
 * destination of the run, each of them holds that shard's whole chain (every
 * link complete and written by this config), the chain is shorter than
 * max_chain and its full shard younger than full_every. Otherwise the shard is
 * full and `reason` says why.
 */
export async function planShard(input: PlanInput): Promise<ShardPlan> {
  const { config, requested } = input;
  const policy = config.backup.incremental;
  const recordList = policy !== undefined || requested === 'incremental';
  const wanted = requested ?? (policy ? 'incremental' : 'full');
  if (wanted === 'full') return { type: 'full', recordList };
  const full = (reason: string): ShardPlan => ({ type: 'full', reason, recordList: true });

  const { state_dir: stateDir } = config.backup;
  const owner = shardOwnerOf(config);
  let list: FileList | undefined;
  try {
    list = await readFileList(stateDir, owner.tag);
  } catch (error) {
    return full(`the file list of the last run cannot be read (${(error as Error).message})`);
  }
  if (!list) {
    return full(`no file list of an earlier run of this config in ${fileListPath(stateDir, owner.tag)}`);
  }
  const parentId = list.header.shard;
  if (JSON.stringify(list.header.origins) !== JSON.stringify(input.origins)) {
    return full(`the sources changed since shard ${parentId}`);
  }

  let parent: ShardManifest | undefined;
  let base: ShardManifest | undefined;
  for (const { name, destination } of input.destinations) {
    let complete: ShardManifest[];
    try {
      ({ complete } = await listShards(destination));
    } catch (error) {
      return full(`destination ${name} could not be listed to find the parent: ${(error as Error).message}`);
    }
    const { newest } = newestOwnShard(complete, owner, input.now);
    if (!newest) return full(`destination ${name} holds no complete shard of this config`);
    if (newest.id !== parentId) {
      return full(
        `the newest shard of this config on destination ${name} is ${newest.id}, not ${parentId} that the local file list describes`,
      );
    }
    const byId = new Map(complete.map((manifest) => [manifest.id, manifest]));
    let link: ShardManifest = newest;
    while (link.type === 'incremental') {
      const up = byId.get(link.parent);
      if (!up || !isOwnShard(up, owner)) {
        return full(
          `destination ${name} lacks shard ${link.parent}, a link of the chain of ${parentId} (missing, incomplete or not this config's)`,
        );
      }
      link = up;
    }
    parent ??= newest;
    base ??= link;
  }
  if (!parent || !base) return full('no destination to find the parent on');

  const { max_chain: maxChain, full_every: fullEvery } = policy ?? DEFAULT_INCREMENTAL_POLICY;
  const chainLength = parent.type === 'incremental' ? parent.chain_length + 1 : 1;
  if (chainLength > maxChain) {
    return full(`the chain of ${base.id} holds ${maxChain} incrementals (incremental.max_chain)`);
  }
  const age = input.now.getTime() - Date.parse(base.created_at);
  const every = parseDuration(fullEvery);
  if (age >= every) {
    return full(
      `the chain's full shard ${base.id} is ${ageText(age)} old (incremental.full_every: ${fullEvery})`,
    );
  }
  return { type: 'incremental', parent, base: base.id, chainLength, list, recordList: true };
}

function ageText(ms: number): string {
  const hours = ms / 3_600_000;
  if (hours >= 48) return `${Math.floor(hours / 24)} days`;
  return hours >= 1 ? `${Math.floor(hours)} hours` : `${Math.floor(ms / 60_000)} minutes`;
}
