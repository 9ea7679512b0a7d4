import { serverOptions } from '../client/server-option.js';
import { loadCommandConfig } from '../context.js';
import { describeError, ExitCode, errorRecord } from '../exit-codes.js';
import { type DestinationListing, type ListedShard, listBackups } from '../operations/list.js';
import { formatBytes, formatTime } from '../output/format.js';
import type { Printer } from '../output/printer.js';
import { renderTable } from '../output/table.js';
import { command, destinationOption } from './command.js';

/** A destination's listing as printed (and as --json has it): its error as a code and a message. */
type PrintedListing = Omit<DestinationListing, 'error'> & { error?: { code: string; message: string } };

export const listCommand = command((host) => ({
  command: 'list',
  describe:
    'List the shards on each destination, newest first, with the config that wrote each; incomplete ones are flagged',
  builder: (yargs) =>
    serverOptions(destinationOption(yargs, 'Only this destination (repeatable); default: every enabled one'))
      .option('own', {
        type: 'boolean',
        default: false,
        describe: "Only this config's shards (those retention, status and `restore latest` consider)",
      })
      .example('$0 list', 'Every shard on every enabled destination')
      .example('$0 list --own', "Only this config's shards")
      .example('$0 list -d s3-offsite --json', 'The manifests stored on one destination, as JSON')
      .example(
        '$0 list --server unix:/run/matric-backup/api.sock',
        'The shards as the running service sees them',
      ),
  handler: (args) =>
    host.run(async (context) => {
      const { printer } = context;
      if (typeof args.server === 'string') {
        const { connect } = await import('../client/connection.js');
        const { remoteList } = await import('../client/remote-list.js');
        return remoteList(printer, await connect(context, args.server, args.tokenFile), {
          ...(args.destination && { destinations: args.destination }),
          own: args.own === true,
        });
      }
      const config = await loadCommandConfig(context);
      const listings = (await listBackups(config, { destinations: args.destination, own: args.own })).map(
        ({ error, ...listing }): PrintedListing => {
          if (error === undefined) return listing;
          printer.error(describeError(error, printer.verbose));
          return { ...listing, error: errorRecord(error) };
        },
      );

      for (const listing of listings) {
        for (const shard of listing.complete.filter((candidate) => candidate.future)) {
          printer.warn(
            `${listing.name}: shard ${shard.id} is dated ${shard.created_at}, in the future (a wrong clock?)`,
          );
        }
      }
      if (printer.json)
        printer.result({
          config: { name: config.backup.name, source_instance: config.backup.source_instance },
          destinations: listings,
        });
      else printListings(printer, listings, `${config.backup.name}@${config.backup.source_instance}`);
      return listings.some((listing) => listing.error) ? ExitCode.FAILED : ExitCode.OK;
    }),
}));

function writerOf(shard: ListedShard): string {
  if (shard.owner === 'own') return 'own';
  if (shard.owner === 'legacy') return `legacy (${shard.source_instance})`;
  return shard.writer
    ? `${shard.writer.name}@${shard.source_instance}`
    : `${shard.source_instance} (unnamed)`;
}

function printListings(printer: Printer, listings: PrintedListing[], configName: string): void {
  const rows: string[][] = [];
  for (const listing of listings) {
    for (const shard of listing.complete) {
      rows.push([
        listing.name,
        shard.id,
        formatTime(shard.created_at),
        shard.type === 'full' ? 'full' : `incr ${shard.chain_length}`,
        shard.type === 'full' ? '' : shard.parent,
        String(shard.file_count),
        formatBytes(shard.size_bytes),
        formatBytes(shard.object.size),
        shard.collections.join(','),
        writerOf(shard),
        shard.chain_problem
          ? printer.style.bad('BROKEN CHAIN')
          : shard.future
            ? printer.style.warn('FUTURE')
            : 'complete',
      ]);
    }
    for (const shard of listing.incomplete) {
      rows.push([
        listing.name,
        shard.id,
        formatTime(shard.modified),
        '',
        '',
        '',
        '',
        formatBytes(shard.size),
        '',
        shard.owner === 'own' ? 'own' : shard.owner,
        printer.style.warn('INCOMPLETE'),
      ]);
    }
    if (listing.error)
      rows.push([
        listing.name,
        '',
        '',
        '',
        '',
        '',
        '',
        '',
        '',
        '',
        printer.style.bad(`ERROR ${listing.error.code}`),
      ]);
  }
  if (rows.length === 0) {
    printer.line('no shards');
    return;
  }
  printer.line(
    renderTable(
      [
        'DESTINATION',
        'ID',
        'CREATED',
        'TYPE',
        'PARENT',
        'FILES',
        'SIZE',
        'STORED',
        'SOURCES',
        'WRITER',
        'STATUS',
      ],
      rows,
    ),
  );
  printer.note(`own = written by this config (${configName})`);
  if (listings.some((listing) => listing.complete.some((shard) => shard.type === 'incremental'))) {
    printer.note(
      'incr N = an incremental shard, N links after its full shard; restoring it needs every link back to that one',
    );
  }
  for (const listing of listings) {
    for (const shard of listing.complete.filter((candidate) => candidate.chain_problem)) {
      printer.note(`${listing.name}: ${shard.id} cannot be restored from there: ${shard.chain_problem}`);
    }
  }
  for (const listing of listings) {
    for (const shard of listing.incomplete) {
      printer.note(`${listing.name}: ${shard.id} is incomplete (${shard.reason}): ${shard.why}`);
    }
  }
}
