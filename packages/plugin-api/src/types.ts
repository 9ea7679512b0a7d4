import type { Readable } from 'node:stream';
import type { z } from 'zod';
import type { DestinationError } from './errors.js';

/** Bumped when the Destination interface changes incompatibly; core refuses other versions. */
export const DESTINATION_API_VERSION = 1;

export interface ObjectInfo {
  /** Relative POSIX key, as passed to put(). */
  key: string;
  size: number;
  modified: Date;
}

export interface PutOptions {
  /** Exact byte count of the stream. */
  size: number;
  /** Lowercase hex sha256 of the stream's bytes; a plugin may store it as metadata. */
  sha256: string;
  /** Aborting it must leave no partial object and no temporary object behind. */
  signal?: AbortSignal;
  /** Bytes handed to the server so far; for progress bars. */
  onProgress?: (bytesSent: number) => void;
  /**
   * Never replace an existing object: when `key` exists, reject with DestinationError
   * ALREADY_EXISTS (not retryable) and leave it as it is. Core sets it for every
   * object of a shard, so no key is ever written by two writers. Make it atomic
   * where the store can (a hard link, a rename that does not replace, a conditional
   * write) and declare `capabilities.exclusiveCreate`; otherwise check just before
   * the object becomes visible.
   */
  ifAbsent?: boolean;
  /**
   * Absolute path of a local file holding exactly the body's bytes, when there is
   * one (core's spool file). A plugin may hand this file to a faster path instead of
   * reading `body` (a kernel-side copy, a hard link, smbclient or rsync reading it
   * themselves); it must then destroy `body`. Core never writes this file again, it
   * only removes it, so a hard link may keep it as the stored object. Core
   * checks the stored size afterwards (see stat()).
   */
  sourcePath?: string;
}

/** What every operation but put() and check() takes; put() has the same in PutOptions. */
export interface OperationOptions {
  /**
   * Aborted when the run is interrupted (Ctrl-C, SIGTERM): stop, release what the
   * operation holds and reject with an AbortError. Core stops waiting at once
   * either way; honouring it is what frees the connection.
   */
  signal?: AbortSignal;
}

/** A temporary object of an unfinished put, see Destination.listTemporary. */
export interface TemporaryObject {
  /**
   * What identifies it: its own key, which delete() removes; or, on a store with
   * deleteTemporary (S3: an unfinished multipart upload has no key of its own),
   * whatever that method needs, e.g. the upload id.
   */
  name: string;
  /** The key the put was writing. */
  key: string;
  size: number;
  modified: Date;
}

/** Outcome of Destination.deleteMany: the keys that could not be deleted, each with why. */
export interface DeleteManyResult {
  failed: Array<{ key: string; error: DestinationError }>;
}

export interface CheckResult {
  /** Human-readable facts found while checking, e.g. `bucket matric exists, writable`. */
  details: string[];
  freeBytes?: number;
}

/**
 * A place that stores opaque objects under relative POSIX keys. Core validates
 * every key before a plugin sees it and wraps whatever a plugin throws into a
 * DestinationError, so implementations map their SDK's errors to codes and
 * nothing more.
 */
export interface Destination {
  /**
   * Stores the stream under `key`. Atomic: the key is visible only once the whole
   * object is stored (temp name + rename, multipart complete, ...). A failed or
   * aborted put leaves no partial object and no temporary object. Replaces an
   * existing object, unless `options.ifAbsent`. Never retries the whole put; core
   * does that.
   */
  put(key: string, body: Readable, options: PutOptions): Promise<void>;
  /** A readable stream of the object. Throws DestinationError NOT_FOUND when absent. */
  get(key: string, options?: OperationOptions): Promise<Readable>;
  /** Every object whose key starts with `prefix` (all when empty), beyond any server page size. */
  list(prefix?: string, options?: OperationOptions): AsyncIterable<ObjectInfo>;
  /** undefined when absent. */
  stat(key: string, options?: OperationOptions): Promise<ObjectInfo | undefined>;
  /** Idempotent: deleting a missing key succeeds. */
  delete(key: string, options?: OperationOptions): Promise<void>;
  /**
   * Optional batch delete for stores with a bulk call (S3 DeleteObjects: 1,000 keys a
   * request). Idempotent like delete(). A key the store refuses is returned in `failed`;
   * a failure of the whole call throws. Callers fall back to delete() per key when absent.
   */
  deleteMany?(keys: readonly string[], options?: OperationOptions): Promise<DeleteManyResult>;
  /**
   * Optional: the temporary objects of unfinished puts (a crashed or killed
   * upload's `.<name>.tmp-...`), which list() never yields. Each `name` is a key
   * that delete() removes; `key` is the object it was being written as. Core
   * removes those of its own shards once they are a day old (`prune`).
   */
  listTemporary?(options?: OperationOptions): AsyncIterable<TemporaryObject>;
  /**
   * Optional, for stores whose temporary objects delete() cannot remove (S3 aborts
   * an unfinished multipart upload by key and upload id): removes one object that
   * listTemporary yielded. Idempotent. Without it, core calls delete(name).
   */
  deleteTemporary?(temporary: TemporaryObject, options?: OperationOptions): Promise<void>;
  /** Connectivity, credentials and write permission. Throws DestinationError when something is wrong. */
  check(): Promise<CheckResult>;
  /** Releases connections. Safe to call twice. */
  close(): Promise<void>;
  /**
   * The folder on this machine the objects are written into, when there is one
   * (a local folder, a mounted share); absent for remote stores. Core leaves it
   * out of every source that contains it, so a shard never holds the shards
   * before it.
   */
  readonly localPath?: string;
}

/** What a destination can and cannot do; the conformance suite reads these instead of skipping tests. */
export interface DestinationCapabilities {
  /** Largest object the destination accepts, in bytes; undefined = no limit. */
  maxObjectSize?: number;
  /**
   * Most operations one destination should have in flight at once (a server that
   * allows few sessions); undefined = no limit. Core queues the rest. A listing
   * holds no slot while its caller works on what it yielded.
   */
  maxConcurrency?: number;
  /** Whether `modified` reported by list/stat has sub-second precision. */
  subsecondModified?: boolean;
  /**
   * Whether a put with `ifAbsent` is atomic: of two such puts of one absent key
   * racing each other, exactly one succeeds. Without it, `ifAbsent` is a check
   * just before the object becomes visible, and core's read-back after a run's
   * upload is what catches a race. A filesystem store (the SDK's folder store,
   * local, SMB mount mode) is atomic only where the filesystem has hard links; on
   * FAT, exFAT or a share without link support it falls back to a check just
   * before the rename, and the read-back catches a race there too.
   */
  exclusiveCreate?: boolean;
}

export interface PluginContext {
  /** The destination's configured name, for messages. */
  name: string;
  /** Folder of the config file; relative paths in the block were already resolved against it. */
  configDir: string;
  /** Where a plugin may put scratch files (e.g. a 0600 auth file). */
  tmpDir: string;
  log: PluginLogger;
}

export interface PluginLogger {
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
}

export interface DestinationPlugin<Schema extends z.ZodType = z.ZodType> {
  apiVersion: number;
  /** The `type:` value in backup.yaml. */
  type: string;
  /**
   * Zod schema of the destination block's plugin-specific keys (everything but the
   * common `name`, `type`, `enabled`, `required`, `retention`, `plugin`). Use a
   * strict object so unknown keys are reported with their path.
   */
  configSchema: Schema;
  /**
   * Keys holding secrets. For each key K the user may also write `K_file`
   * (read from a file) or `K_command` (stdout of a command); core resolves them
   * before validation, and redacts the values from every message.
   */
  secretKeys?: readonly string[];
  /** Keys holding filesystem paths; core resolves them against the config file's folder. */
  pathKeys?: readonly string[];
  capabilities: DestinationCapabilities;
  create(config: z.output<Schema>, context: PluginContext): Destination | Promise<Destination>;
  /**
   * Where the destination keeps its objects, for people: a folder path or a
   * URL such as `s3://bucket/prefix`, without secrets. The CLI prints an
   * object as `<location>/<key>`; a plugin without it is shown as
   * `<destination name>:<key>`. Called with the validated config; opens nothing.
   */
  describe?(config: z.output<Schema>): string;
}

/** A plugin package default-exports one plugin, or an array when it registers several types. */
export type PluginModuleExport = DestinationPlugin | readonly DestinationPlugin[];
