import {
  type IncompleteShard,
  isFutureDated,
  leftoverEvidence,
  listShards,
  loadShardOwner,
  type Ownership,
  parseShardId,
  type ShardManifest,
  type ShardOwner,
  selectDestinations,
  shardOwnership,
} from '@matric-backup/core';
import { loadCommandConfig } from '../context.js';
import { onEachDestination } from '../destinations.js';
import { describeError, ExitCode, errorRecord } from '../exit-codes.js';
import { formatBytes, formatTime } from '../output/format.js';
import type { Printer } from '../output/printer.js';
import { renderTable } from '../output/table.js';
import { command, destinationOption } from './command.js';

/** A complete shard with whose it is: this config's (`own`), another's, or from before configs had names. */
type ListedShard = ShardManifest & {
  owner: Ownership;
  /** Dated more than a few minutes ahead of this clock. */
  future: boolean;
};

/** An incomplete shard with whose it may be, and whether prune removes it or only reports it. */
interface ListedIncomplete extends IncompleteShard {
  owner: 'own' | 'foreign' | 'unknown';
  removable: boolean;
  why: string;
}

interface DestinationListing {
  name: string;
  type: string;
  complete: ListedShard[];
  incomplete: ListedIncomplete[];
  error?: { code: string; message: string };
}

export const listCommand = command((host) => ({
  command: 'list',
  describe:
    'List the shards on each destination, newest first, with the config that wrote each; incomplete ones are flagged',
  builder: (yargs) =>
    destinationOption(yargs, 'Only this destination (repeatable); default: every enabled one')
      .option('own', {
        type: 'boolean',
        default: false,
        describe: "Only this config's shards (those retention, status and `restore latest` consider)",
      })
      .example('$0 list', 'Every shard on every enabled destination')
      .example('$0 list --own', "Only this config's shards")
      .example('$0 list -d s3-offsite --json', 'The manifests stored on one destination, as JSON'),
  handler: (args) =>
    host.run(async (context) => {
      const { printer } = context;
      const config = await loadCommandConfig(context);
      const owner = await loadShardOwner(config);
      const now = new Date();
      const outcomes = await onEachDestination(
        config,
        selectDestinations(config, args.destination),
        (opened) => listShards(opened),
      );
      const listings = outcomes.map((outcome): DestinationListing => {
        const { destination } = outcome;
        const base = { name: destination.name, type: destination.type };
        if (!outcome.ok) {
          printer.error(describeError(outcome.error, printer.verbose));
          return { ...base, complete: [], incomplete: [], error: errorRecord(outcome.error) };
        }
        const complete = outcome.value.complete.map((manifest) => ({
          ...manifest,
          owner: shardOwnership(manifest, owner),
          future: isFutureDated(manifest.created_at, now),
        }));
        const incomplete = outcome.value.incomplete.map((shard) =>
          describeIncomplete(shard, destination.name, owner),
        );
        return {
          ...base,
          complete: args.own ? complete.filter((shard) => shard.owner === 'own') : complete,
          incomplete: args.own ? incomplete.filter((shard) => shard.owner === 'own') : incomplete,
        };
      });

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

function describeIncomplete(
  shard: IncompleteShard,
  destination: string,
  owner: ShardOwner,
): ListedIncomplete {
  const tag = parseShardId(shard.id)?.tag;
  const whose = tag === undefined ? 'unknown' : tag === owner.tag ? 'own' : 'foreign';
  const evidence = leftoverEvidence(shard.id, destination, owner);
  const why =
    evidence ??
    (whose === 'foreign'
      ? "another config's or host's: left alone"
      : 'nothing shows it is a failed run of this config: kept; `matric-backup delete ID` removes it');
  return { ...shard, owner: whose, removable: evidence !== undefined, why };
}

function writerOf(shard: ListedShard): string {
  if (shard.owner === 'own') return 'own';
  if (shard.owner === 'legacy') return `legacy (${shard.source_instance})`;
  return shard.writer
    ? `${shard.writer.name}@${shard.source_instance}`
    : `${shard.source_instance} (unnamed)`;
}

function printListings(printer: Printer, listings: DestinationListing[], configName: string): void {
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
        writerOf(shard),
        shard.future ? printer.style.warn('FUTURE') : 'complete',
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
        shard.owner === 'own' ? 'own' : shard.owner,
        printer.style.warn('INCOMPLETE'),
      ]);
    }
    if (listing.error)
      rows.push([listing.name, '', '', '', '', '', '', '', printer.style.bad(`ERROR ${listing.error.code}`)]);
  }
  if (rows.length === 0) {
    printer.line('no shards');
    return;
  }
  printer.line(
    renderTable(
      ['DESTINATION', 'ID', 'CREATED', 'FILES', 'SIZE', 'STORED', 'SOURCES', 'WRITER', 'STATUS'],
      rows,
    ),
  );
  printer.note(`own = written by this config (${configName})`);
  for (const listing of listings) {
    for (const shard of listing.incomplete) {
      printer.note(`${listing.name}: ${shard.id} is incomplete (${shard.reason}): ${shard.why}`);
    }
  }
}
