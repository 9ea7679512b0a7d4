import { ExitCode } from '../exit-codes.js';
import { formatBytes, formatTime } from '../output/format.js';
import type { Printer } from '../output/printer.js';
import { renderTable } from '../output/table.js';
import type { ApiClient } from './connection.js';

interface RemoteStatus {
  name: string;
  schedule: string | null;
  next_scheduled: string | null;
  running: { job_id: string; kind: string } | null;
  last_backup: { id: string; status: string; finished_at: string } | null;
  destinations: Array<{
    name: string;
    status: 'ok' | 'error';
    newest?: { id: string; created_at: string };
    age_ms?: number;
    count?: number;
    bytes?: number;
    error?: { code: string; message: string };
  }>;
}

/**
 * `status --server`: the service's view (GET /api/v1/backup/status). With `maxAgeMs`, exit 1
 * when a destination has no shard newer, as the local `status --max-age` does.
 */
export async function remoteStatus(
  printer: Printer,
  api: ApiClient,
  maxAgeMs: number | undefined,
): Promise<ExitCode> {
  const status = await api.call<RemoteStatus>('GET', '/api/v1/backup/status');
  const stale = (row: RemoteStatus['destinations'][number]) =>
    maxAgeMs !== undefined && (row.age_ms === undefined || row.age_ms > maxAgeMs);
  const ok = status.destinations.every((row) => row.status === 'ok' && !stale(row));
  if (printer.json) {
    printer.result({ ok, ...status });
    return ok ? ExitCode.OK : ExitCode.FAILED;
  }
  const { style } = printer;
  printer.line(
    renderTable(
      ['DESTINATION', 'NEWEST', 'CREATED', 'SHARDS', 'SIZE', 'STATUS'],
      status.destinations.map((row) => [
        row.name,
        row.newest?.id ?? '',
        row.newest ? formatTime(row.newest.created_at) : '',
        row.error ? '' : String(row.count ?? 0),
        row.error ? '' : formatBytes(row.bytes ?? 0),
        row.error
          ? style.bad(`ERROR ${row.error.code}`)
          : stale(row)
            ? style.bad(row.newest ? 'STALE' : 'NO BACKUP')
            : row.newest
              ? style.ok('ok')
              : style.warn('no backup'),
      ]),
    ),
  );
  const last = status.last_backup;
  printer.line(`last run: ${last ? `${last.id} ${last.status} (${formatTime(last.finished_at)})` : 'none'}`);
  printer.line(
    `running: ${status.running ? `${status.running.kind} (job ${status.running.job_id})` : 'nothing'}`,
  );
  printer.line(
    `schedule: ${status.schedule ?? 'none'}${status.next_scheduled ? `; next run ${formatTime(status.next_scheduled)}` : ''}`,
  );
  return ok ? ExitCode.OK : ExitCode.FAILED;
}
