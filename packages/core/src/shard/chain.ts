import type { Destination } from '@matric-backup/plugin-api';
import { isMatricError, MatricError } from '@matric-backup/plugin-api';
import { findShard } from './catalog.js';
import { INNER_MANIFEST_NAME, type InnerManifest, type ShardManifest } from './manifest.js';
import { problem, type ShardProblem } from './problem.js';

/**
 * Everything `restore` needs to rebuild one point in time: for a full shard
 * the shard alone, for an incremental one the base and every incremental up to
 * it, base first. Each link is read from `from` (its sidecar), and must fit:
 * the parent named, the same base, chain lengths counting up to 1 at the base.
 * A missing or unreadable link is VERIFY_FAILED naming it: that copy of the
 * chain is broken, another destination may hold a whole one.
 */
export async function resolveChain(
  from: Pick<Destination, 'get'>,
  manifest: ShardManifest,
  options: { destination?: string } = {},
): Promise<ShardManifest[]> {
  const links: ShardManifest[] = [manifest];
  let current = manifest;
  while (current.type === 'incremental') {
    const child = current;
    const parent = await findShard(from as Destination, child.parent, options).catch((error: unknown) => {
      if (isMatricError(error) && error.code === 'SHARD_NOT_FOUND')
        throw brokenChain(manifest, child.parent, error.message, options.destination, error);
      throw error;
    });
    const misfit = whyNotParent(child, parent);
    if (misfit) throw brokenChain(manifest, parent.id, misfit, options.destination);
    links.unshift(parent);
    current = parent;
  }
  return links;
}

/**
 * Checks shards against the complete shards of one destination (`complete`, as
 * listed): what keeps a shard from being restored there, a link of its chain
 * missing or not fitting the one after it. Empty for a full shard and a whole
 * chain. The listing is indexed once, as callers check each of its shards
 * (one index per shard made `list` of 1,000 shards quadratic).
 */
export function chainChecker(
  complete: readonly ShardManifest[],
): (manifest: ShardManifest) => ShardProblem[] {
  const byId = new Map(complete.map((shard) => [shard.id, shard]));
  return (manifest) => {
    for (let child = manifest; child.type === 'incremental'; ) {
      const parent = byId.get(child.parent);
      const why = parent ? whyNotParent(child, parent) : 'missing or incomplete on this destination';
      if (why) return [problem(child.parent, 'CHAIN', `link of the chain of ${manifest.id}: ${why}`)];
      child = parent!;
    }
    return [];
  };
}

/** Why `parent` cannot be the parent `child` names, or undefined when it fits. */
function whyNotParent(
  child: ShardManifest & { type: 'incremental' },
  parent: ShardManifest,
): string | undefined {
  if (parent.type === 'full') {
    if (parent.id !== child.base) return `it is a full shard, but ${child.id} says its base is ${child.base}`;
    if (child.chain_length !== 1)
      return `it is the base, but ${child.id} says it is ${child.chain_length} links from it`;
    return undefined;
  }
  if (parent.base !== child.base) return `its base is ${parent.base}, ${child.id}'s is ${child.base}`;
  if (parent.chain_length !== child.chain_length - 1) {
    return `it is ${parent.chain_length} links from the base, ${child.id} ${child.chain_length}`;
  }
  return undefined;
}

function brokenChain(
  manifest: ShardManifest,
  link: string,
  why: string,
  destination: string | undefined,
  cause?: unknown,
): MatricError {
  const where = destination ? ` on destination ${destination}` : '';
  return new MatricError(
    'VERIFY_FAILED',
    `the chain of incremental shard ${manifest.id}${where} is broken at ${link}: ${why}`,
    {
      hint: `restore from another destination that holds the whole chain (-d), or an earlier full shard; \`matric-backup verify ${manifest.id}\` checks every link`,
      cause,
    },
  );
}

/**
 * The sidecar names the chain; the inner manifest (covered by the object's
 * checksum and the encryption) must say the same, or an edited sidecar could
 * splice a shard into another chain.
 */
export function chainFieldProblems(manifest: ShardManifest, inner: InnerManifest): ShardProblem[] {
  const innerType = inner.type ?? 'full';
  const says = (type: string, parent?: string, base?: string) =>
    type === 'full' ? 'a full shard' : `an incremental shard of parent ${parent} and base ${base}`;
  const sidecar =
    manifest.type === 'full' ? says('full') : says(manifest.type, manifest.parent, manifest.base);
  const archived = says(innerType, inner.parent, inner.base);
  return sidecar === archived
    ? []
    : [problem(INNER_MANIFEST_NAME, 'INNER_MANIFEST', `says ${archived}, the sidecar manifest ${sidecar}`)];
}
