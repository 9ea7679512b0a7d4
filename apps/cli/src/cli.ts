import { createRequire } from 'node:module';
import yargs, { type Argv, type CommandModule, type Options } from 'yargs';
import { checkCommand } from './commands/check.js';
import { cleanupCommand } from './commands/cleanup.js';
import type { Command, CommandHost } from './commands/command.js';
import { copyCommand } from './commands/copy.js';
import { deleteCommand } from './commands/delete.js';
import { diffCommand } from './commands/diff.js';
import { dumpCommand } from './commands/dump.js';
import { findCommand } from './commands/find.js';
import { historyCommand } from './commands/history.js';
import { infoCommand } from './commands/info.js';
import { initCommand } from './commands/init.js';
import { listCommand } from './commands/list.js';
import { lsCommand } from './commands/ls.js';
import { mcpCommand } from './commands/mcp.js';
import { pluginsCommand } from './commands/plugins.js';
import { pruneCommand } from './commands/prune.js';
import { restoreCommand } from './commands/restore.js';
import { runCommand } from './commands/run.js';
import { serveCommand } from './commands/serve.js';
import { statusCommand } from './commands/status.js';
import { systemdCommand } from './commands/systemd.js';
import { verifyCommand } from './commands/verify.js';
import type { CommandContext, GlobalArgs } from './context.js';
import { describeError, ExitCode, errorList, exitCodeOf } from './exit-codes.js';
import { createEventLog } from './output/event-log.js';
import { Printer } from './output/printer.js';
import { usageError } from './usage-errors.js';

// biome-ignore lint/suspicious/noExplicitAny: each command has its own argument types.
const COMMANDS: Command<any>[] = [
  runCommand,
  listCommand,
  infoCommand,
  lsCommand,
  findCommand,
  diffCommand,
  dumpCommand,
  verifyCommand,
  restoreCommand,
  copyCommand,
  pruneCommand,
  cleanupCommand,
  deleteCommand,
  statusCommand,
  historyCommand,
  checkCommand,
  initCommand,
  pluginsCommand,
  serveCommand,
  systemdCommand,
  mcpCommand,
];

const { version } = createRequire(import.meta.url)('../package.json') as { version: string };

/** The options every command accepts, read by the parser and, before it, for the printer. */
const GLOBAL_OPTIONS = {
  config: {
    alias: 'c',
    type: 'string',
    requiresArg: true,
    global: true,
    describe:
      'Config file (default: $MATRIC_BACKUP_CONFIG, ./backup.yaml, ~/.config/matric-backup/backup.yaml, /etc/matric-backup/backup.yaml)',
  },
  json: { type: 'boolean', default: false, global: true, describe: 'Print one JSON document on stdout' },
  verbose: {
    alias: 'v',
    type: 'count',
    global: true,
    describe:
      'Say more; show stack traces of unexpected errors. -vv: run also lists every file stored or excluded',
  },
  color: {
    type: 'boolean',
    default: true,
    global: true,
    describe: 'Colored output (--no-color to turn off; NO_COLOR is honored too)',
  },
  'log-format': {
    type: 'string',
    choices: ['json', 'text'],
    requiresArg: true,
    global: true,
    describe:
      'json: every line of output as one JSON object a line on stdout, with events such as "backup created" (default for serve without a terminal); text: for people',
  },
} as const satisfies Record<Exclude<keyof GlobalArgs, 'logFormat'> | 'log-format', Options>;

/** Parses `argv`, runs the command, prints any error, and returns the exit code. */
export async function main(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  // The global options first, with the same definitions, so that even an error the full parse
  // reports (an unknown option, a missing argument) is printed as --json, --verbose and --no-color ask.
  const { global, command } = readGlobalOptions(argv);
  const jsonLog =
    global.logFormat === 'json'
      ? await createEventLog({
          format: 'json',
          verbose: global.verbose > 0,
          redact: (text) => printer.redact(text),
          // `mcp` speaks its protocol on stdout: a log line there would break the client's stream.
          ...(command === 'mcp' && { stdout: process.stderr }),
        })
      : undefined;
  const printer: Printer = new Printer({
    json: global.json,
    // A command's own option, but the printer is made before the commands parse theirs.
    jsonLines: argv.includes('--json-lines'),
    verbose: global.verbose > 0,
    color: global.color,
    env,
    ...(jsonLog ? { jsonLog } : {}),
  });
  const context: CommandContext = { global, printer, cwd: process.cwd(), env };
  let exitCode: number = ExitCode.OK;
  const host: CommandHost = {
    async run(work) {
      exitCode = await work(context);
    },
  };
  const commands = COMMANDS.map((define) => define(host));
  const named = commands.some((module) => nameOf(module) === argv[0]);

  const parser = yargs(argv)
    .scriptName('matric-backup')
    .usage(
      '$0 <command> [options]\n\nOne backup run builds one shard and stores it on every enabled destination.',
    )
    .options(GLOBAL_OPTIONS)
    .strict()
    .demandCommand(1, 'name a command')
    .exitProcess(false)
    .fail((message, error, usage) => {
      // yargs calls this for its own validation errors (a message, or a YError) and for errors thrown by builders.
      if (error && error.name !== 'YError') throw error;
      throw usageError(message ?? error?.message ?? '', {
        argv,
        commands: [...commands.map(nameOf), 'completion'],
        ...(named && { command: argv[0] }),
        options: Object.keys((usage as unknown as YargsUsage).getDescriptions()),
        usage: (usage as unknown as YargsUsage).getUsage()[0]?.[0],
      });
    })
    // `completion` prints yargs' script for bash and zsh; the shell then asks with --get-yargs-completions.
    .completion(
      'completion',
      'Print a shell completion script (bash, zsh): matric-backup completion >> ~/.bashrc',
    )
    .help()
    .alias('help', 'h')
    .version(version)
    .wrap(Math.min(110, process.stdout.columns ?? 100))
    .epilogue(
      [
        'Exit codes:',
        '  0  ok',
        '  1  failed (run stored nothing or a source failed; verify mismatch; runtime error)',
        '  2  usage or config error',
        '  3  partial: a required destination failed, another has the shard',
        '  4  locked: another run of this config is in progress',
        '  5  completed with warnings: stored, but some files vanished, were unreadable or changed while read',
        '  130, 143  interrupted by Ctrl-C (SIGINT) or SIGTERM; what was in progress was cleaned up',
      ].join('\n'),
    );
  // yargs is given each command without its handler, which runs below.
  for (const { handler: _runBelow, ...declaration } of commands)
    parser.command({ ...declaration, builder: ownOptionsFirst(declaration) } as CommandModule<
      GlobalArgs,
      unknown
    >);
  skipHelpCache(parser);

  try {
    const args = await parser.parseAsync();
    // yargs printed the help, the version or a shell's completions: nothing else to do.
    if (args.help === true || args.version === true || argv.includes('--get-yargs-completions'))
      return exitCode;
    await commands.find((module) => nameOf(module) === args._[0])?.handler(args);
  } catch (error) {
    printer.error(describeError(error, printer.verbose));
    // A script reading --json output gets one document whatever happened.
    if (printer.json) printer.result({ ok: false, exit_code: exitCodeOf(error), errors: errorList(error) });
    return exitCodeOf(error);
  }
  return exitCode;
}

/**
 * yargs renders a command's whole help text before running it (every command gets a handler, a no-op
 * when given none), to show it should the handler fail: 50-150 ms of every start-up, and the text
 * is never shown, as failures print their own message (`fail` above, `describeError` below).
 * `--help` renders it when asked, as before.
 */
function skipHelpCache(parser: Argv<GlobalArgs>): void {
  const internal = parser as unknown as {
    getInternalMethods(): { getUsageInstance(): { cacheHelpMessage(): void } };
  };
  internal.getInternalMethods().getUsageInstance().cacheHelpMessage = () => {};
}

/** The options every command's help lists after the command's own, under "Global options:". */
const GLOBAL_KEYS = [...Object.keys(GLOBAL_OPTIONS), 'help', 'version'];

/**
 * A command's builder whose help lists the command's own options before the global ones: yargs
 * prints groups in the order they are made, so the command's group is made first.
 */
function ownOptionsFirst(module: Omit<CommandModule<GlobalArgs, unknown>, 'handler'>) {
  const { builder } = module;
  const positionals = (String(module.command).match(/[<[][^>\]]+[>\]]/g) ?? []).map((word) =>
    word.slice(1, -1),
  );
  return (argv: Argv<GlobalArgs>) => {
    const built = (
      typeof builder === 'function' ? builder(argv) : argv.options(builder ?? {})
    ) as Argv<GlobalArgs>;
    const { key, alias } = (
      built as unknown as { getOptions(): { key: Record<string, unknown>; alias: Record<string, string[]> } }
    ).getOptions();
    const aliases = new Set(Object.values(alias).flat());
    const own = Object.keys(key).filter(
      (name) => !GLOBAL_KEYS.includes(name) && !aliases.has(name) && !positionals.includes(name),
    );
    return built.group(own, 'Options:').group(GLOBAL_KEYS, 'Global options:');
  };
}

/**
 * What yargs (18) passes as the third argument of `fail`, typed as `Argv` but its usage object: the
 * options described for the command being parsed, and that command's usage line.
 */
interface YargsUsage {
  getDescriptions(): Record<string, unknown>;
  getUsage(): Array<[string, string]>;
}

/** A command's name: the first word of its yargs command string (`restore <shard>`). */
function nameOf(module: CommandModule<GlobalArgs, unknown>): string {
  return String(module.command).split(' ')[0] ?? '';
}

/** The global options alone, leniently: what the full parse would refuse is its to report. */
function readGlobalOptions(argv: string[]): { global: GlobalArgs; command?: string } {
  let parsed: GlobalArgs & { _: Array<string | number> };
  try {
    parsed = yargs(argv)
      .options(GLOBAL_OPTIONS)
      .help(false)
      .version(false)
      .exitProcess(false)
      .fail((message, error) => {
        throw error ?? new Error(message);
      })
      .parseSync() as GlobalArgs & { _: Array<string | number> };
  } catch {
    return { global: { json: argv.includes('--json'), verbose: 0, color: true, logFormat: 'text' } };
  }
  const command = String(parsed._[0] ?? '');
  // `serve` under systemd or docker logs for a machine; on a terminal, for the person watching.
  const serving = command === 'serve' && process.stdout.isTTY !== true;
  return { global: { ...parsed, logFormat: parsed.logFormat ?? (serving ? 'json' : 'text') }, command };
}
