import type { Destination } from '@matric-backup/plugin-api';
import type { CompressionAlgorithm } from '../shard/manifest.js';
import { shardId, shardKeys } from '../shard/naming.js';

/**
 * A shard id for `at` that no destination uses yet: the
 * second's id with this writer's tag, or `_2`, `_3`... when this writer already
 * used that second. Other writers cannot take it: their tag differs. A
 * destination that cannot answer counts as free: its upload will report the
 * problem.
 */
export async function pickShardId(
  prefix: string,
  tag: string,
  at: Date,
  format: { compression: CompressionAlgorithm; encryption: 'age' | 'gpg' | null },
  destinations: readonly Destination[],
): Promise<string> {
  const taken = new Set<string>();
  for (;;) {
    const id = shardId(prefix, at, tag, (candidate) => taken.has(candidate));
    if (!(await isTaken(id))) return id;
    taken.add(id);
  }

  async function isTaken(id: string): Promise<boolean> {
    const { archive, index, sidecar } = shardKeys(id, format.compression, format.encryption);
    const found = await Promise.all(
      destinations.flatMap((destination) =>
        [sidecar, archive, index].map((key) => destination.stat(key).catch(() => undefined)),
      ),
    );
    return found.some((info) => info !== undefined);
  }
}
