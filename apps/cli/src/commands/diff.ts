import { loadCommandConfig } from '../context.js';
import { ExitCode } from '../exit-codes.js';
import { diffShards } from '../operations/diff.js';
import { changeLine, reportReading } from '../output/file-lines.js';
import { command } from './command.js';
import { readingOptions, readingRequest } from './shard-reading.js';

export const diffCommand = command((host) => ({
  command: 'diff <from> <to>',
  describe: "What changed between two shards' points in time: added, removed and modified paths",
  builder: (yargs) =>
    readingOptions(yargs)
      .positional('from', { type: 'string', describe: 'The older shard id' })
      .positional('to', { type: 'string', describe: 'The newer shard id, or "latest"' })
      .example('$0 diff backup_20250130_020004_kqzmbtwa latest', 'What changed since that night')
      .example(
        '$0 diff A B --json | jq \'.changes[] | select(.change == "removed") | .path\'',
        'Removed paths',
      ),
  handler: (args) =>
    host.run(async (context) => {
      const { printer } = context;
      const config = await loadCommandConfig(context);
      const result = await diffShards(config, {
        from: String(args.from),
        to: String(args.to),
        ...readingRequest(args, context, config),
      });
      if (printer.json) {
        printer.result(result);
        return ExitCode.OK;
      }
      reportReading(printer, result);
      for (const change of result.changes) printer.line(changeLine(change));
      const { added, removed, modified } = result.summary;
      printer.note(
        `${added} added, ${removed} removed, ${modified} modified (${result.from.id} -> ${result.to.id})`,
      );
      return ExitCode.OK;
    }),
}));
