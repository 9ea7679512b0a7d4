import type { DestinationResult, DryRunPlan, RunSummary, ShardManifest, Warning } from '@matric-backup/core';
import { type ExitCode, exitCodeOfRun } from '../exit-codes.js';

/**
 * One destination of a run, as `run --json`, the API's job result and mcp's `run_backup` give it:
 * core's result, its one camelCase field in snake_case.
 */
interface RunDestinationDocument
  extends Pick<
    DestinationResult,
    'name' | 'type' | 'required' | 'status' | 'bytes' | 'attempts' | 'error' | 'prune'
  > {
  duration_ms: number;
}

/** The document of one backup run: `run --json`, the `finished` event of `run --json-lines`, the API and mcp. */
export interface RunDocument {
  id: string;
  status: RunSummary['status'];
  exit_code: ExitCode;
  dry_run: boolean;
  type: RunSummary['type'];
  started_at: string;
  duration_ms: number;
  full_reason?: string;
  parent_list_from?: string;
  archive?: { key: string; size: number; sha256: string; files: number; bytes_in: number };
  /** The sidecar manifest as stored (its own snake_case fields). */
  manifest?: ShardManifest;
  plan?: {
    key: string;
    files: number;
    directories: number;
    symlinks: number;
    bytes_in: number;
    commands: DryRunPlan['commands'];
    destinations: string[];
  };
  destinations: RunDestinationDocument[];
  warnings: Warning[];
  /** Why the run failed or was partial; empty when it did not. */
  errors: Array<{ code: string; message: string; hint?: string }>;
}

export function runDocument(summary: RunSummary): RunDocument {
  const { archive, plan } = summary;
  return {
    id: summary.id,
    status: summary.status,
    exit_code: exitCodeOfRun(summary.status),
    dry_run: summary.dryRun,
    type: summary.type,
    started_at: summary.startedAt,
    duration_ms: summary.durationMs,
    ...(summary.fullReason !== undefined && { full_reason: summary.fullReason }),
    ...(summary.parentListFrom !== undefined && { parent_list_from: summary.parentListFrom }),
    ...(archive && {
      archive: {
        key: archive.key,
        size: archive.size,
        sha256: archive.sha256,
        files: archive.files,
        bytes_in: archive.bytesIn,
      },
    }),
    ...(summary.manifest && { manifest: summary.manifest }),
    ...(plan && {
      plan: {
        key: plan.key,
        files: plan.files,
        directories: plan.directories,
        symlinks: plan.symlinks,
        bytes_in: plan.bytesIn,
        commands: plan.commands,
        destinations: plan.destinations,
      },
    }),
    destinations: summary.destinations.map(runDestinationDocument),
    warnings: summary.warnings,
    errors: summary.error ? [summary.error] : [],
  };
}

function runDestinationDocument(result: DestinationResult): RunDestinationDocument {
  return {
    name: result.name,
    type: result.type,
    required: result.required,
    status: result.status,
    bytes: result.bytes,
    duration_ms: result.durationMs,
    attempts: result.attempts,
    ...(result.error && { error: result.error }),
    ...(result.prune && { prune: result.prune }),
  };
}
