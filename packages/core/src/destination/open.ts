import { rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Destination } from '@matric-backup/plugin-api';
import { makeFolders } from '@matric-backup/plugin-api';
import type { LoadedConfig, ResolvedDestination } from '../config/types.js';
import { interruptSignal, onInterrupt } from '../util/interrupt.js';
import { createLogger } from '../util/logger.js';
import { ownerTag, removeLeftoversOfGone } from '../util/process-identity.js';
import { redact } from '../util/redact.js';
import { guardDestination, toDestinationError } from './guarded.js';
import { retryPolicy } from './retry.js';
import { assertDestinationShape } from './shape.js';

/**
 * Creates the plugin's Destination for a validated block, wrapped in everything
 * core enforces (guardDestination): keys checked, puts verified, errors typed,
 * the run's interrupt as every operation's signal, the plugin's concurrency cap,
 * the block's bandwidth_limit,
 * and every operation but put retried by the config's `backup.retry` (a retry is
 * logged as a warning naming the destination). The plugin gets a private 0700
 * scratch folder, removed again by close().
 */
export async function openDestination(
  config: LoadedConfig,
  destination: ResolvedDestination,
): Promise<Destination> {
  const tmpDir = await scratchDir(config.backup.state_dir, destination.name);
  // An interrupted run does not reach close(): its scratch folder goes with the other cleanups.
  const forget = onInterrupt(() => rmSync(tmpDir, { recursive: true, force: true }));
  const log = createLogger(config.secrets, {
    prefix: destination.name,
    debug: Boolean(process.env.MATRIC_BACKUP_DEBUG),
  });
  let inner: Destination;
  try {
    inner = await destination.plugin.create(destination.config, {
      name: destination.name,
      configDir: config.dir,
      tmpDir,
      log,
    });
  } catch (error) {
    forget();
    await rm(tmpDir, { recursive: true, force: true });
    const wrapped = toDestinationError(error, destination.name, 'open');
    wrapped.message = redact(wrapped.message, config.secrets);
    throw wrapped;
  }
  try {
    assertDestinationShape(inner, destination.type);
  } catch (error) {
    forget();
    await rm(tmpDir, { recursive: true, force: true });
    throw error;
  }
  const policy = retryPolicy(config.backup.retry);
  const guarded = guardDestination(destination.name, inner, {
    signal: interruptSignal,
    retry: {
      policy,
      onRetry: (operation, { attempt, delayMs, error }) =>
        log.warn(
          `${operation} failed (${describeFailure(error)}); retry ${attempt} of ${policy.retries} in ${(delayMs / 1000).toFixed(1)} s`,
        ),
    },
    maxConcurrency: destination.plugin.capabilities.maxConcurrency,
    ...(destination.bandwidthLimit !== undefined && { bandwidthLimit: destination.bandwidthLimit }),
  });
  let closing: Promise<void> | undefined;
  return {
    ...guarded,
    close() {
      closing ??= guarded.close().finally(() => {
        forget();
        return rm(tmpDir, { recursive: true, force: true });
      });
      return closing;
    },
  };
}

/** mkdtemp's six characters after `<destination name>-<ownerTag()>-`. */
const SCRATCH = /^-(\d+)-(\d*)-[A-Za-z0-9]{6}$/;

/**
 * Under <state_dir>/tmp when it can be created (same disk as the spool), else
 * the system's. Named with its run's process, so the next run removes what a
 * killed one left: a plugin may keep a secret there (smbclient's credentials file).
 */
async function scratchDir(stateDir: string, name: string): Promise<string> {
  const base = join(stateDir, 'tmp');
  try {
    await makeFolders(base, 0o700);
    removeLeftoversOfGone(base, SCRATCH, name);
    return await mkdtemp(join(base, `${name}-${ownerTag()}-`));
  } catch {
    return mkdtemp(join(tmpdir(), `matric-backup-${name}-`));
  }
}

function describeFailure(error: unknown): string {
  const { code, message } = error as { code?: unknown; message?: unknown };
  return `${String(code ?? 'UNKNOWN')}: ${String(message ?? error)}`;
}
