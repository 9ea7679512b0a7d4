import {
  type LoadedConfig,
  loadShardOwner,
  type PruneResult,
  pruneDestination,
  type ResolvedDestination,
  type RetentionPolicy,
} from '@matric-backup/core';
import { recordAudit } from './audit.js';
import type { CommandContext } from './context.js';
import { onEachDestination } from './destinations.js';
import { describeError, ExitCode, errorRecord } from './exit-codes.js';
import { reportMaintenance } from './operations/maintenance-report.js';
import { printPruneReport } from './output/prune-report.js';
import { type DestinationPrune, plannedDeletions } from './prune-outcome.js';
import { withRunLock } from './run-lock.js';

export interface PruneRequest {
  dryRun: boolean;
  /** The policy to apply: the configured one for `prune`, `keep_last N` for `cleanup`. */
  policyOf(destination: ResolvedDestination): RetentionPolicy | undefined;
  /** Recorded in the audit line, e.g. `{command: 'cleanup', keep: 5}`. */
  details: Record<string, unknown>;
  /** Write the prune's Prometheus metrics here. */
  metricsFile?: string;
}

/**
 * Applies retention to each destination (in parallel), prints every shard with
 * its decision, and writes one audit line. Exit 1 when a destination could not
 * be pruned or a shard could not be deleted; the others are pruned all the same.
 */
export async function pruneDestinations(
  context: CommandContext,
  config: LoadedConfig,
  destinations: ResolvedDestination[],
  request: PruneRequest,
): Promise<ExitCode> {
  const { printer } = context;
  const startedAt = Date.now();
  const owner = await loadShardOwner(config);
  const pruneAll = () =>
    onEachDestination(config, destinations, (opened, destination) =>
      pruneDestination(opened, request.policyOf(destination), {
        ...owner,
        destination: destination.name,
        dryRun: request.dryRun,
      }),
    );
  const settled = request.dryRun ? await pruneAll() : await withRunLock(config, pruneAll);
  const outcomes = settled.map((outcome): DestinationPrune => {
    const { destination } = outcome;
    const base = {
      name: destination.name,
      type: destination.type,
      policy: request.policyOf(destination) ?? null,
    };
    if (outcome.ok) return { ...base, result: outcome.value };
    printer.error(describeError(outcome.error, printer.verbose));
    return { ...base, error: errorRecord(outcome.error) };
  });

  const failed = outcomes.some((outcome) => outcome.error || outcome.result?.failed.length);
  const deleted = outcomes.some((outcome) => outcome.result?.deleted.length);
  const byDestination = (pick: (result: PruneResult) => unknown[]) =>
    Object.fromEntries(
      outcomes
        .filter((outcome) => outcome.result && pick(outcome.result).length > 0)
        .map((outcome) => [outcome.name, pick(outcome.result!)]),
    );
  await recordAudit(
    config,
    {
      action: 'prune',
      destinations: outcomes.map((outcome) => outcome.name),
      result: request.dryRun ? 'dry-run' : !failed ? 'success' : deleted ? 'partial' : 'failed',
      details: {
        ...request.details,
        ...(request.dryRun
          ? { would_delete: byDestination(plannedDeletions) }
          : { deleted: byDestination((result) => result.deleted) }),
        ...(failed ? { failed: byDestination((result) => result.failed) } : {}),
        ...(outcomes.some((outcome) => outcome.error)
          ? { errors: Object.fromEntries(outcomes.filter((o) => o.error).map((o) => [o.name, o.error])) }
          : {}),
      },
    },
    (message) => printer.warn(message),
  );

  // A dry run changed nothing: no event, no metrics.
  if (!request.dryRun) {
    const firstError = outcomes.find((outcome) => outcome.error)?.error;
    const firstFailed = outcomes.find((outcome) => outcome.result?.failed.length);
    await reportMaintenance(
      config,
      {
        kind: 'prune',
        startedAt,
        destinations: outcomes.map((outcome) => {
          const destination = destinations.find((entry) => entry.name === outcome.name);
          return {
            name: outcome.name,
            type: outcome.type,
            required: destination?.required ?? true,
            ok: !outcome.error && !outcome.result?.failed.length,
            deleted: outcome.result?.deleted ?? [],
            failed: outcome.result?.failed ?? [],
            ...(outcome.error && { error: outcome.error }),
          };
        }),
        ...(firstError
          ? { error: firstError }
          : firstFailed && {
              error: {
                code: 'UNKNOWN',
                message: `destination "${firstFailed.name}": ${firstFailed.result!.failed[0]!.message}`,
              },
            }),
        ...(request.metricsFile && { metricsFile: request.metricsFile }),
      },
      (message) => printer.warn(message),
    );
  }

  if (printer.json) {
    printer.result({
      dry_run: request.dryRun,
      destinations: outcomes.map(({ result, ...outcome }) => ({
        ...outcome,
        ...(result && {
          shards: result.decisions.map((decision) => ({
            id: decision.id,
            created_at: decision.createdAt.toISOString(),
            size: decision.size,
            ...(decision.parent !== undefined && { parent: decision.parent }),
            action: decision.action,
            reasons: decision.reasons,
          })),
          incomplete: result.incomplete,
          legacy: result.legacy.map((shard) => ({
            id: shard.id,
            created_at: shard.createdAt.toISOString(),
            size: shard.size,
          })),
          foreign: result.foreign,
          future: result.future,
          leftovers: result.leftovers,
          deleted: result.deleted,
          failed: result.failed,
        }),
      })),
    });
  } else {
    printPruneReport(printer, outcomes, request.dryRun);
  }
  return failed ? ExitCode.FAILED : ExitCode.OK;
}
