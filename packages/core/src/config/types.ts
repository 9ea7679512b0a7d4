import type { ConfigIssue, DestinationPlugin } from '@matric-backup/plugin-api';
import type { ResolvedHook } from './paths.js';
import type { BackupSection, RetentionPolicy } from './schema.js';
import type { ConfigPath } from './source.js';

/** A destination block after its plugin validated it. */
export interface ResolvedDestination {
  name: string;
  type: string;
  enabled: boolean;
  required: boolean;
  /** The block's own retention merged over backup.retention; undefined when neither is set. */
  retention?: RetentionPolicy;
  /** `bandwidth_limit` in bytes per second; undefined: unlimited. */
  bandwidthLimit?: number;
  /** Commands before and after this destination's upload (their `cwd` resolved). */
  hooks?: { before: ResolvedHook[]; after: ResolvedHook[] };
  plugin: DestinationPlugin;
  /** Output of the plugin's configSchema. */
  config: unknown;
  /** Secret values found in this block, for redaction. */
  secrets: string[];
}

export interface LoadedConfig {
  /** Absolute path of the config file. */
  file: string;
  /** Its folder; relative paths were resolved against it. */
  dir: string;
  backup: Omit<BackupSection, 'destinations' | 'hooks'> & {
    /** Commands around the run, in one shape (see ResolvedHook). */
    hooks?: {
      before: ResolvedHook[];
      after: ResolvedHook[];
      on_error: ResolvedHook[];
      finally: ResolvedHook[];
    };
    state_dir: string;
    spool_dir: string;
    source_instance: string;
    /** backup.name, or its default (see defaultConfigName): whose shards are whose. */
    name: string;
  };
  destinations: ResolvedDestination[];
  /** Every secret value in the config, for redaction in logs and errors. */
  secrets: string[];
  /** Problems that do not stop a run (a secret too weak to mask safely); `check` and `run` print them. */
  warnings?: ConfigIssue[];
  /** Line and column of a key path in the file, for problems found after loading (pre-flight checks). */
  positionOf?: (path: ConfigPath) => { line: number; column: number };
  /** The key path as printed: list items by name where they have one (`backup.destinations[nas].path`). */
  displayPath?: (path: ConfigPath) => string;
}
