import type { Destination } from '@matric-backup/plugin-api';
import { isMatricError } from '@matric-backup/plugin-api';
import type { LoadedConfig, ResolvedDestination } from '../config/types.js';
import { loadShardOwner } from '../retention/owner-of.js';
import { pruneDestination } from '../retention/prune.js';
import { redact } from '../util/redact.js';
import { type Warning, warning } from '../util/warning.js';
import type { DestinationResult } from './types.js';

/**
 * Retention on every destination that just stored shard `id`,
 * in parallel, while the run still holds its lock and its connections. Never
 * fails the run: a destination that cannot be pruned, or a shard that cannot be
 * deleted, becomes a warning and the `prune` field of that destination's result;
 * the next run tries again.
 */
export async function applyRetention(
  config: LoadedConfig,
  opened: ReadonlyArray<{ resolved: ResolvedDestination; destination?: Destination }>,
  results: readonly DestinationResult[],
  id: string,
  warn: (found: Warning) => void,
): Promise<void> {
  const owner = await loadShardOwner(config);
  await Promise.all(
    opened.map(async ({ resolved, destination }, index) => {
      const result = results[index];
      if (!destination || result?.name !== resolved.name || result.status !== 'success') return;
      try {
        const outcome = await pruneDestination(destination, resolved.retention, {
          ...owner,
          destination: resolved.name,
          protect: [id],
        });
        if (outcome.future.length > 0) {
          warn(
            warning(
              'SHARD_IN_FUTURE',
              `${resolved.name} holds ${outcome.future.length} shard(s) of this config dated in the future (${outcome.future.join(', ')}): a clock was wrong when they were made; they are kept, never count as the latest or as fresh, and take no retention slot`,
              { destination: resolved.name },
            ),
          );
        }
        result.prune = { deleted: outcome.deleted, failed: outcome.failed };
        for (const failure of outcome.failed) {
          warn(
            warning(
              'RETENTION_FAILED',
              `retention on ${resolved.name}: could not delete shard ${failure.id}: ${failure.message}`,
              { destination: resolved.name, shard: failure.id },
            ),
          );
        }
      } catch (error) {
        const message = redact(error instanceof Error ? error.message : String(error), config.secrets);
        const code = isMatricError(error) ? error.code : 'UNKNOWN';
        result.prune = { deleted: [], failed: [], error: { code, message } };
        warn(
          warning(
            'RETENTION_FAILED',
            `retention on ${resolved.name} failed (the shard is stored): ${message}`,
            {
              destination: resolved.name,
            },
          ),
        );
      }
    }),
  );
}
