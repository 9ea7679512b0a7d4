import { MatricError, parseDuration } from '@matric-backup/core';
import { loadCommandConfig } from '../context.js';
import { ExitCode } from '../exit-codes.js';
import { findInShards } from '../operations/find.js';
import { longLines, onOneLine } from '../output/file-lines.js';
import { formatBytes, formatCount, formatTime } from '../output/format.js';
import { command } from './command.js';
import { readingOptions, readingRequest } from './shard-reading.js';

export const findCommand = command((host) => ({
  command: 'find <patterns..>',
  describe: 'Find paths across every shard of this config on a destination: which shards hold a match',
  builder: (yargs) =>
    readingOptions(yargs)
      .positional('patterns', {
        type: 'string',
        describe: 'Globs: without a slash matched against file names, with one against whole archive paths',
      })
      .option('since', {
        type: 'string',
        requiresArg: true,
        describe: 'Only shards made at or after this: an ISO date, or an age such as 7d or 36h',
      })
      .option('latest', { type: 'number', requiresArg: true, describe: 'Only the newest N shards' })
      .option('all', {
        type: 'boolean',
        default: false,
        describe: "Every writer's shards on the destination, not only this config's",
      })
      .option('long', {
        alias: 'l',
        type: 'boolean',
        default: false,
        describe: 'Mode, owner, size and mtime of each match',
      })
      .example("$0 find '*.conf'", 'Every .conf file in every shard of this config')
      .example("$0 find 'etc/ssh/*' --latest 5 -l", 'Where etc/ssh changed in the last five shards')
      .example('$0 find fstab --since 30d --json', 'As JSON, for scripts'),
  handler: (args) =>
    host.run(async (context) => {
      const { printer } = context;
      const config = await loadCommandConfig(context);
      if (args.latest !== undefined && !(Number.isInteger(args.latest) && args.latest > 0))
        throw new MatricError('USAGE', `--latest ${args.latest}: expected a whole number above 0`);
      const result = await findInShards(config, {
        patterns: ([] as unknown[]).concat(args.patterns ?? []).map(String),
        ...(args.since !== undefined && { since: sinceDate(String(args.since)) }),
        ...(args.latest !== undefined && { latest: args.latest }),
        all: args.all === true,
        ...readingRequest(args, context, config),
      });
      if (printer.json) {
        printer.result(result);
        return ExitCode.OK;
      }
      for (const entry of result.warnings) printer.warn(entry.message);
      for (const match of result.matches) {
        printer.line(`${match.shard}  (${formatTime(match.created_at)}, ${match.type})`);
        const lines = args.long
          ? longLines(match.entries)
          : match.entries.map((entry) => onOneLine(entry.path));
        for (const line of lines) printer.line(`  ${line}`);
      }
      printer.debug(
        `${result.destination}: ${formatCount(result.shards_searched, 'shard')} searched; file lists: ${result.lists.index} from index objects, ${result.lists.archive} from archives; ${formatBytes(result.bytes_read)} read (${result.bytes_read} bytes)`,
      );
      if (result.matches.length === 0)
        printer.note(`no match in ${formatCount(result.shards_searched, 'shard')} on ${result.destination}`);
      return ExitCode.OK;
    }),
}));

/** `--since`: an ISO date or time, or an age (`7d`, `36h`, bare seconds) before now. */
function sinceDate(text: string): Date {
  if (/^\d{4}-\d{2}-\d{2}/.test(text)) {
    const at = new Date(text);
    if (!Number.isNaN(at.getTime())) return at;
  } else {
    try {
      return new Date(Date.now() - parseDuration(text));
    } catch {
      // Reported below with what is accepted.
    }
  }
  throw new MatricError(
    'USAGE',
    `--since ${text}: expected an ISO date (2025-01-31) or an age such as 7d or 36h`,
  );
}
