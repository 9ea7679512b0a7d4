import { listShards, type ShardManifest } from '@matric-backup/core';
import { loadCommandConfig } from '../context.js';
import { selectDestinations, withDestination } from '../destinations.js';
import { describeError, ExitCode, errorRecord } from '../exit-codes.js';
import { formatBytes, formatTime } from '../output/format.js';
import type { Printer } from '../output/printer.js';
import { renderTable } from '../output/table.js';
import { type CommandSpec, destinationNames, destinationOption } from './command.js';

type Listing = Awaited<ReturnType<typeof listShards>>;

interface DestinationListing {
  name: string;
  type: string;
  complete: ShardManifest[];
  incomplete: Listing['incomplete'];
  error?: { code: string; message: string };
}

export const listCommand: CommandSpec = {
  command: 'list',
  describe:
    'List the shards on each destination, newest first; incomplete ones (no sidecar manifest) are flagged',
  builder: (yargs) =>
    destinationOption(yargs, 'Only this destination (repeatable); default: every enabled one')
      .example('$0 list', 'Every shard on every enabled destination')
      .example('$0 list -d s3-offsite --json', 'The manifests stored on one destination, as JSON'),
  async run(args, context) {
    const { printer } = context;
    const config = await loadCommandConfig(context);
    const listings: DestinationListing[] = [];
    for (const destination of selectDestinations(config, destinationNames(args))) {
      const base = { name: destination.name, type: destination.type };
      try {
        const listing = await withDestination(config, destination, (opened) => listShards(opened));
        listings.push({ ...base, ...listing });
      } catch (error) {
        printer.error(describeError(error, printer.verbose));
        listings.push({ ...base, complete: [], incomplete: [], error: errorRecord(error) });
      }
    }

    if (printer.json) printer.result({ destinations: listings });
    else printListings(printer, listings);
    return listings.some((listing) => listing.error) ? ExitCode.FAILED : ExitCode.OK;
  },
};

function printListings(printer: Printer, listings: DestinationListing[]): void {
  const rows: string[][] = [];
  for (const listing of listings) {
    for (const shard of listing.complete) {
      rows.push([
        listing.name,
        shard.id,
        formatTime(shard.created_at),
        String(shard.file_count),
        formatBytes(shard.size_bytes),
        formatBytes(shard.object.size),
        shard.collections.join(','),
        'complete',
      ]);
    }
    for (const shard of listing.incomplete) {
      rows.push([
        listing.name,
        shard.id,
        formatTime(shard.modified),
        '',
        '',
        formatBytes(shard.size),
        '',
        printer.style.warn('INCOMPLETE'),
      ]);
    }
    if (listing.error)
      rows.push([listing.name, '', '', '', '', '', '', printer.style.bad(`ERROR ${listing.error.code}`)]);
  }
  if (rows.length === 0) {
    printer.line('no shards');
    return;
  }
  printer.line(
    renderTable(['DESTINATION', 'ID', 'CREATED', 'FILES', 'SIZE', 'STORED', 'SOURCES', 'STATUS'], rows),
  );
  const incomplete = listings.reduce((count, listing) => count + listing.incomplete.length, 0);
  if (incomplete > 0) {
    printer.note(
      `${incomplete} incomplete shard(s): a run that did not finish storing them; they cannot be restored, and \`matric-backup prune\` removes them once a day old`,
    );
  }
}
