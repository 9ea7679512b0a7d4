// Public surface of @matric-backup/core. Each section is owned by one folder;
// add exports to your section only.

// destination API (destination/)
export { defineDestination } from './destination/define.js';
export { guardDestination } from './destination/guarded.js';
export { assertValidKey } from './destination/keys.js';
export {
  type CheckResult,
  type Destination,
  type DestinationCapabilities,
  DESTINATION_API_VERSION,
  type DestinationPlugin,
  type ObjectInfo,
  type PluginContext,
  type PluginLogger,
  type PluginModuleExport,
  type PutOptions,
} from './destination/types.js';
export {
  ConfigError,
  type ConfigIssue,
  DestinationError,
  type DestinationErrorCode,
  type ErrorCode,
  isDestinationError,
  MatricError,
} from './errors.js';

// shard format (shard/)
export * from './shard/manifest.js';
export { parseShardId, shardId, shardIdOfKey, shardKeys } from './shard/naming.js';

// config and plugin loading (config/, plugins/)
export type { BackupSection, RetentionPolicy, SourceConfig } from './config/schema.js';
export type { LoadedConfig, ResolvedDestination } from './config/types.js';

// run pipeline (sources/, archive/, run/)

// reading shards: catalog, verify, restore (shard/, restore/)
