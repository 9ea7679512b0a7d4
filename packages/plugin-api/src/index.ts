// Public surface of @matric-backup/plugin-api: everything a destination plugin
// needs, and nothing that pulls in core's engine (no native or heavy dependency).

export { defineDestination } from './define.js';
export {
  ConfigError,
  type ConfigIssue,
  DESTINATION_ERROR_CODES,
  DestinationError,
  type DestinationErrorCode,
  type DestinationErrorOptions,
  type ErrorCode,
  formatConfigIssue,
  isDestinationError,
  isMatricError,
  MatricError,
  type MatricErrorOptions,
} from './errors.js';
export { makeFolders } from './folders.js';
export { assertMounted, type MountInfo, mountAt } from './mount.js';
export { placeFile } from './place-file.js';
export { BYTE_SIZE_HINT, parseByteSize } from './sizes.js';
export { parseTemporaryKey, temporaryKey, temporaryToken } from './temporary-keys.js';
export {
  type CheckResult,
  DESTINATION_API_VERSION,
  type DeleteManyResult,
  type Destination,
  type DestinationCapabilities,
  type DestinationPlugin,
  type ObjectInfo,
  type OperationOptions,
  type PluginContext,
  type PluginLogger,
  type PluginModuleExport,
  type PutOptions,
  type TemporaryObject,
} from './types.js';
