import type { Destination, ObjectInfo } from '@matric-backup/plugin-api';
import { SIDECAR_SUFFIX } from '../shard/manifest.js';
import { shardIdOfKey } from '../shard/naming.js';

/**
 * The objects of shard `id` at the destination's root, complete or not, archive
 * first and sidecar last (the order deleteShards removes them in); [] when the
 * destination holds none. One prefix listing: no sidecar is read.
 */
export async function shardObjects(dest: Destination, id: string): Promise<ObjectInfo[]> {
  const objects: ObjectInfo[] = [];
  for await (const object of dest.list(`${id}.`)) {
    if (!object.key.includes('/') && shardIdOfKey(object.key) === id) objects.push(object);
  }
  const isSidecar = (object: ObjectInfo) => Number(object.key.endsWith(SIDECAR_SUFFIX));
  return objects.sort((a, b) => isSidecar(a) - isSidecar(b) || a.key.localeCompare(b.key));
}
