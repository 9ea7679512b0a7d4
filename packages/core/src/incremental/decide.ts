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
import { fetchFileList } from './fetch-list.js';
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
      /** The destination the list was rebuilt from, when the state folder had none of the parent. */
      listFrom?: string;
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
 * Full or incremental. An incremental is made only when every destination of
 * the run has the same newest shard of this config and its whole chain (every
 * link complete and written by this config), the sources are the ones it was
 * made from, the chain is shorter than max_chain and its full shard younger
 * than full_every. The parent's file list comes from the state folder; when
 * that has none of the parent, it is rebuilt from the chain's inner manifests
 * on the first destination. Otherwise the shard is full and `reason` says why.
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
  // Without a usable local list (none, unreadable, or of another shard) the parent's is read from a destination.
  let list: FileList | undefined;
  let noList: string | undefined;
  try {
    list = await readFileList(stateDir, config.file, owner.tag);
    if (!list)
      noList = `no file list of an earlier run of this config in ${await fileListPath(stateDir, config.file, owner.tag)}`;
  } catch (error) {
    noList = `the file list of the last run cannot be read (${(error as Error).message})`;
  }

  let parent: ShardManifest | undefined;
  let chain: ShardManifest[] = [];
  for (const { name, destination } of input.destinations) {
    let complete: ShardManifest[];
    try {
      ({ complete } = await listShards(destination));
    } catch (error) {
      return full(`destination ${name} could not be listed to find the parent: ${(error as Error).message}`);
    }
    const { newest } = newestOwnShard(complete, owner, input.now);
    if (!newest) return full(`destination ${name} holds no complete shard of this config`);
    if (parent && newest.id !== parent.id) {
      return full(
        `destinations disagree on the newest shard of this config: ${parent.id} on ${input.destinations[0]!.name}, ${newest.id} on ${name}`,
      );
    }
    const byId = new Map(complete.map((manifest) => [manifest.id, manifest]));
    const links: ShardManifest[] = [newest];
    for (let link = newest; link.type === 'incremental'; link = links[0]!) {
      const up = byId.get(link.parent);
      if (!up || !isOwnShard(up, owner)) {
        return full(
          `destination ${name} lacks shard ${link.parent}, a link of the chain of ${newest.id} (missing, incomplete or not this config's)`,
        );
      }
      links.unshift(up);
    }
    parent ??= newest;
    if (chain.length === 0) chain = links;
  }
  if (!parent) return full('no destination to find the parent on');
  const base = chain[0]!;

  if (list && list.header.shard !== parent.id) {
    noList = `the local file list describes ${list.header.shard}, not ${parent.id}, the newest shard of this config`;
    list = undefined;
  }
  const sourcesOf = list ? list.header.origins : parent.origins;
  if (JSON.stringify(sourcesOf) !== JSON.stringify(input.origins)) {
    return full(`the sources changed since shard ${parent.id}`);
  }
  const policyLimits = policy ?? DEFAULT_INCREMENTAL_POLICY;
  const chainLength = parent.type === 'incremental' ? parent.chain_length + 1 : 1;
  if (chainLength > policyLimits.max_chain) {
    return full(
      `the chain of ${base.id} holds ${policyLimits.max_chain} incrementals (incremental.max_chain)`,
    );
  }
  const age = input.now.getTime() - Date.parse(base.created_at);
  if (age >= parseDuration(policyLimits.full_every)) {
    return full(
      `the chain's full shard ${base.id} is ${ageText(age)} old (incremental.full_every: ${policyLimits.full_every})`,
    );
  }
  if (!list) {
    const [first] = input.destinations;
    const encryption = config.backup.encryption;
    try {
      list = await fetchFileList(
        first!.destination,
        chain,
        {
          ...(encryption?.identity_file !== undefined && { identity: encryption.identity_file }),
          ...(encryption?.gpg_homedir !== undefined && { gpgHomedir: encryption.gpg_homedir }),
        },
        { version: 1, writer: owner.name, tag: owner.tag, origins: input.origins },
      );
    } catch (error) {
      return full(
        `${noList}, and the chain of ${parent.id} could not be read from destination ${first!.name}: ${(error as Error).message}`,
      );
    }
  }
  return {
    type: 'incremental',
    parent,
    base: base.id,
    chainLength,
    list,
    recordList: true,
    ...(noList && { listFrom: input.destinations[0]!.name }),
  };
}

function ageText(ms: number): string {
  const hours = ms / 3_600_000;
  if (hours >= 48) return `${Math.floor(hours / 24)} days`;
  return hours >= 1 ? `${Math.floor(hours)} hours` : `${Math.floor(ms / 60_000)} minutes`;
}
