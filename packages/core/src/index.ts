// Public surface of @matric-backup/core. Each section is owned by one folder;
// add exports to your section only.

// destination API: the plugin SDK, re-exported so that `@matric-backup/core` keeps
// offering everything a plugin imports; core's own wrappers (destination/)
export * from '@matric-backup/plugin-api';
export { guardDestination } from './destination/guarded.js';
export { assertValidKey } from './destination/keys.js';

// shard format (shard/)
export * from './shard/manifest.js';
export {
  isIndexKey,
  objectKeysOf,
  type ParsedShardId,
  parseShardId,
  shardId,
  shardIdOfKey,
  shardKeys,
  writerTag,
} from './shard/naming.js';

// config and plugin loading (config/, plugins/)
export { type LoadConfigOptions, loadConfig } from './config/load.js';
export { configWords } from './config/weak-secrets.js';
export { type LocateConfigOptions, locateConfig } from './config/locate.js';
export type {
  BackupSection,
  CommandSourceConfig,
  DirectorySourceConfig,
  RetentionPolicy,
  RetryConfig,
  ScheduleConfig,
  SourceConfig,
} from './config/schema.js';
export type { LoadedConfig, ResolvedDestination } from './config/types.js';
export { type ListPluginsOptions, listPlugins, type PluginListing } from './plugins/list.js';
export {
  type BuiltinPlugin,
  type BuiltinPlugins,
  type LoadPluginOptions,
  loadPlugin,
} from './plugins/loader.js';
export { openDestination } from './destination/open.js';
export { type PreflightOptions, preflight } from './preflight/preflight.js';
export { interruptAndCleanUp, runInterruptCleanups } from './util/interrupt.js';
export { closestName } from './util/did-you-mean.js';
export { maskMessages } from './util/mask-messages.js';
export { redact } from './util/redact.js';
export {
  WARNING_CODES,
  type Warning,
  type WarningCode,
  type WarningContext,
  warning,
} from './util/warning.js';

// run pipeline (sources/, archive/, run/)
export { createCompressStream, createDecompressStream } from './archive/compression.js';
export { runBackup } from './run/run.js';
export { selectDestinations } from './run/select.js';
/** A file name for people: bytes that are not UTF-8 as `\xNN`. */
export { displayName } from './util/names.mjs';
export type {
  DestinationResult,
  DryRunPlan,
  FileEvent,
  RunEvent,
  RunOptions,
  RunSummary,
} from './run/types.js';

// reading shards: catalog, verify, restore (shard/, restore/)
export {
  type CatalogOptions,
  findShard,
  type IncompleteShard,
  listShards,
  type ShardCatalog,
} from './shard/catalog.js';
export { readInnerManifest } from './shard/inner-manifest.js';
export {
  checkIndexObject,
  type IndexFallback,
  type IndexFallbackCode,
  readShardListing,
  type ShardListing,
} from './shard/index-object.js';
export { parseInnerManifest, parseShardManifest } from './shard/manifest-schema.js';
export { chainChecker, chainFieldProblems, resolveChain } from './shard/chain.js';
export { describeProblem, type ShardProblem, type ShardProblemCode } from './shard/problem.js';
export { type VerifyOptions, type VerifyProgress, type VerifyResult, verifyShard } from './shard/verify.js';
export { checkStoredSize } from './shard/check-stored.js';
export {
  type RestoreOptions,
  type RestoreProgress,
  type RestoreResult,
  restoreShard,
} from './restore/restore.js';
export type { ShardKeys } from './shard/decode.js';
export {
  CONFLICT_STRATEGIES,
  type ConflictStrategy,
  type PlannedChange,
  type RestoreAction,
} from './restore/plan.js';
export { type RestoreFromOptions, restoreFromLocations, type ShardLocation } from './restore/fallback.js';
export { openShardFile, type ShardFile } from './restore/file-source.js';

// looking inside shards without restoring them (inside/)
export { type ShardTree, readShardTree, type TreeLink } from './inside/tree.js';
export { type DumpResult, dumpFile } from './inside/dump.js';
export { type ChangedField, diffTrees, type TreeChange } from './inside/diff.js';

// copying shards between destinations (copy/)
export { type CopyOutcome, type CopyRequest, type CopyStatus, copyShards } from './copy/copy.js';
export { retryPolicy } from './destination/retry.js';

// lifecycle: retention, notifications, metrics (retention/, notify/, metrics/, util/duration)
export { type RetentionCandidate, type RetentionDecision, planRetention } from './retention/policy.js';
export {
  type IncompleteDecision,
  type PruneOptions,
  type PruneResult,
  pruneDestination,
} from './retention/prune.js';
export { ancestorsOf, type ChainLink, dependentsOf } from './retention/chains.js';
export {
  type DeleteOutcome,
  deleteChainsSafely,
  deleteShards,
  type ShardObjects,
} from './retention/delete-shards.js';
export {
  hasOwnTag,
  leftoverEvidence,
  type Ownership,
  type ShardOwner,
  shardOwnership,
} from './retention/ownership.js';
export { loadShardOwner, shardOwnerOf } from './retention/owner-of.js';
export { newestOwnShard } from './retention/latest.js';
export { FUTURE_TOLERANCE_MS, isFutureDated } from './shard/clock.js';
export { shardObjects } from './retention/shard-objects.js';
export { type DestinationStatus, destinationStatus } from './status/destination-status.js';
// The run lock, for the commands that delete shards (prune, cleanup, delete) and so must not overlap a run.
export { acquireRunLock, type RunLock } from './run/lock.js';
export * from './notify/index.js';
export * from './metrics/index.js';
export { type DurationInput, parseDuration } from './util/duration.js';
export * from './state/index.js';

// encryption (crypto/)
export {
  createDecryptStream,
  createEncryptStream,
  type DecryptionKeys,
  type EncryptionSettings,
  resolveAgeRecipients,
} from './crypto/index.js';
