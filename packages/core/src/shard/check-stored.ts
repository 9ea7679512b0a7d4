import type { Destination } from '@matric-backup/plugin-api';
import type { ShardManifest } from './manifest.js';
import { problem, type ShardProblem } from './problem.js';

/**
 * What can be checked of a stored shard without reading its archive: the
 * sidecar was read and parsed already (it is how the shard was found), and the
 * archive must be there with the size the sidecar gives. Its checksum and
 * contents need the whole download: verifyShard.
 */
export async function checkStoredSize(dest: Destination, manifest: ShardManifest): Promise<ShardProblem[]> {
  const name = manifest.object.name;
  const stored = await dest.stat(name);
  if (stored === undefined) return [problem(name, 'OBJECT_SIZE', 'the archive object is missing')];
  if (stored.size === manifest.object.size) return [];
  return [
    problem(
      name,
      'OBJECT_SIZE',
      `stored object is ${stored.size} bytes, the sidecar manifest says ${manifest.object.size}`,
    ),
  ];
}
