import {
  type LoadedConfig,
  loadShardOwner,
  openDestination,
  type RestoreOptions,
  type RestoreResult,
  restoreFromLocations,
  selectDestinations,
} from '@matric-backup/core';
import { recordAudit, type Warn } from '../audit.js';

export interface RestoreRequest extends Omit<RestoreOptions, 'from' | 'manifest'> {
  /** Shard id or `latest`. */
  id: string;
  /** Read only from these destinations; default every enabled one, first intact copy wins. */
  destinations?: string[];
  /** Called before the next destination is tried. */
  onFallback?: (destination: string, error: unknown) => void;
  /** Who asked, for the audit line (the daemon's caller); absent for the CLI's own user. */
  caller?: string;
}

/** Where a restored shard was read from. */
export type RestoreOrigin = { destination: string } | { file: string };

/**
 * Restores a shard of the config from the first destination holding an intact
 * copy, and records the audit line. The keys default to the config's
 * (backup.encryption). Prints nothing: warnings go to `warn`.
 */
export async function restoreBackup(
  config: LoadedConfig,
  request: RestoreRequest,
  warn: Warn,
): Promise<RestoreResult & { destination: string }> {
  const { id, destinations, onFallback, caller, ...options } = request;
  const encryption = config.backup.encryption;
  const identity = options.identity ?? encryption?.identity_file;
  const result = await restoreFromLocations({
    ...options,
    ...(identity !== undefined && { identity }),
    ...(options.gpgHomedir === undefined &&
      encryption?.gpg_homedir !== undefined && { gpgHomedir: encryption.gpg_homedir }),
    id,
    owner: await loadShardOwner(config),
    onNotice: warn,
    locations: selectDestinations(config, destinations).map((destination) => ({
      name: destination.name,
      open: () => openDestination(config, destination),
    })),
    ...(onFallback && { onFallback }),
  });
  const { destination, ...restored } = result;
  await recordRestoreAudit(config, { destination }, restored, warn, caller);
  return result;
}

/** The audit line of a restore (none for a dry run, which changes nothing). */
export async function recordRestoreAudit(
  config: LoadedConfig,
  origin: RestoreOrigin,
  result: RestoreResult,
  warn: Warn,
  caller?: string,
): Promise<void> {
  if (result.dryRun) return;
  await recordAudit(
    config,
    {
      action: 'restore',
      shard: result.id,
      destinations: 'destination' in origin ? [origin.destination] : [],
      result: 'success',
      ...(caller !== undefined && { caller }),
      details: {
        to: result.to,
        files: result.files,
        ...('file' in origin && { file: origin.file }),
        ...(result.conflict && { conflict: result.conflict, ...result.summary }),
      },
    },
    warn,
  );
}
