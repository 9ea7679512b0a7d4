import { ExitCode } from '../exit-codes.js';
import { formatBytes, formatTime } from '../output/format.js';
import type { Printer } from '../output/printer.js';
import { renderTable } from '../output/table.js';
import type { ApiClient } from './connection.js';

interface RemoteList {
  backups: Array<{
    id: string;
    type: string;
    created_at: string;
    owner: string;
    object: { size: number };
    file_count: number;
    destinations: string[];
  }>;
  total: number;
  destinations: Array<{ name: string; error?: { code: string; message: string } }>;
}

/** `list --server`: the shards as the service sees them (GET /api/v1/backups), each once with its destinations. */
export async function remoteList(
  printer: Printer,
  api: ApiClient,
  options: { destinations?: string[]; own: boolean },
): Promise<ExitCode> {
  const query = [
    ...(options.destinations ?? []).map((name) => `destination=${encodeURIComponent(name)}`),
    ...(options.own ? ['own=true'] : []),
  ].join('&');
  const list = await api.call<RemoteList>('GET', `/api/v1/backups${query ? `?${query}` : ''}`);
  const failed = list.destinations.filter((destination) => destination.error);
  if (printer.json) printer.result(list);
  else {
    printer.line(
      renderTable(
        ['ID', 'TYPE', 'CREATED', 'FILES', 'SIZE', 'CONFIG', 'DESTINATIONS'],
        list.backups.map((shard) => [
          shard.id,
          shard.type,
          formatTime(shard.created_at),
          String(shard.file_count),
          formatBytes(shard.object.size),
          shard.owner,
          shard.destinations.join(', '),
        ]),
      ),
    );
    for (const destination of failed)
      printer.error(
        `error: destination "${destination.name}": ${destination.error!.code}: ${destination.error!.message}`,
      );
  }
  return failed.length > 0 ? ExitCode.FAILED : ExitCode.OK;
}
