import type { LoadedConfig } from '../config/types.js';
import type { NotificationEvent } from '../notify/index.js';
import { notify } from '../notify/notify.js';
import { recordRun } from '../state/history.js';

/**
 * A run that did not get to finish on its own: refused by the lock (another
 * run of the config holds it) or stopped by a signal. It leaves a history
 * record (status `failed`, its error's code `LOCKED` or `ABORTED`) and sends
 * its event, so a monitor hears of a backup that did not happen. Never throws:
 * the caller's own outcome (exit 4, 143) stands whatever the state disk does.
 */
export async function reportUnfinished(
  config: LoadedConfig,
  what: {
    id: string;
    startedAt: Date;
    event: Extract<NotificationEvent, 'backup.locked' | 'backup.interrupted'>;
    error: { code: string; message: string };
    destinations: Array<{
      name: string;
      type: string;
      required: boolean;
      status: 'success' | 'failed' | 'skipped';
    }>;
    log: string[];
  },
): Promise<string[]> {
  const warnings: string[] = [];
  const finishedAt = new Date();
  const durationMs = finishedAt.getTime() - what.startedAt.getTime();
  try {
    await recordRun(config.backup.state_dir, {
      kind: 'backup',
      id: what.id,
      config: config.file,
      writer: config.backup.name,
      started_at: what.startedAt.toISOString(),
      finished_at: finishedAt.toISOString(),
      status: 'failed',
      duration_ms: durationMs,
      destinations: what.destinations.map((entry) => ({
        name: entry.name,
        status: entry.status,
        bytes: 0,
        duration_ms: 0,
        attempts: 0,
      })),
      error: what.error,
    });
  } catch (error) {
    warnings.push(`could not record the run in ${config.backup.state_dir}: ${(error as Error).message}`);
  }
  const sent = await notify(
    config.backup.notifications,
    {
      status: 'failed',
      event: what.event,
      durationMs,
      configFile: config.file,
      host: config.backup.source_instance,
      destinations: what.destinations.map((entry) => ({ ...entry, bytes: 0, attempts: 0 })),
      error: what.error,
      log: what.log,
    },
    // A process on its way out gets a short answer window.
    { secrets: config.secrets, timeoutMs: 3000 },
  );
  for (const result of sent)
    if (!result.ok) warnings.push(`notification by ${result.channel} failed: ${result.error}`);
  return warnings;
}
