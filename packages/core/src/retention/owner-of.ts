import type { LoadedConfig } from '../config/types.js';
import { writerTag } from '../shard/naming.js';
import { readWriterRecords } from '../state/writer-records.js';
import type { ShardOwner } from './ownership.js';

/** The config as a shard owner, without reading its state folder. */
export function shardOwnerOf(config: LoadedConfig): ShardOwner {
  const { name, source_instance: sourceInstance, id_prefix: idPrefix } = config.backup;
  return { name, tag: writerTag(name, sourceInstance), idPrefix, sourceInstance };
}

/** The config as a shard owner, with what its state folder recorded (an unreadable folder counts as empty). */
export async function loadShardOwner(config: LoadedConfig): Promise<ShardOwner> {
  const owner = shardOwnerOf(config);
  const records = await readWriterRecords(config.backup.state_dir, {
    writer: owner.name,
    configFile: config.file,
  }).catch(() => undefined);
  return records ? { ...owner, records } : owner;
}
