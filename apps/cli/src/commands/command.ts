import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import type { CommandContext, GlobalArgs } from '../context.js';
import type { ExitCode } from '../exit-codes.js';

/**
 * What `main` gives every command: `run` builds the context of this invocation
 * (printer, working folder, environment), does the command's work with it, and
 * keeps the exit code the work returns. A handler may import its work lazily.
 */
export interface CommandHost {
  run(work: (context: CommandContext) => Promise<ExitCode>): Promise<void>;
}

/** One CLI command: yargs' own CommandModule, its options typed by its builder. */
export type Command<Args> = (host: CommandHost) => CommandModule<GlobalArgs, Args>;

/** The parsed arguments a builder declares (global options included), for a command's helper functions. */
export type ArgsOf<Builder> = Builder extends (yargs: Argv<GlobalArgs>) => Argv<infer Args>
  ? ArgumentsCamelCase<Args>
  : never;

/** `-d NAME`, repeatable, shared by the commands that read destinations. */
export function destinationOption<T>(yargs: Argv<T>, describe: string) {
  return yargs.option('destination', {
    alias: 'd',
    type: 'string',
    array: true,
    requiresArg: true,
    describe,
  });
}

/** Defines a command; its argument types are inferred from its builder. */
export function command<Args>(define: Command<Args>): Command<Args> {
  return define;
}
