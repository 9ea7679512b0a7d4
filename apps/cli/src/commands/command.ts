import type { Argv } from 'yargs';
import type { CommandContext } from '../context.js';
import type { ExitCode } from '../exit-codes.js';

/** One CLI command: its yargs definition and what it does; `run` returns the exit code. */
export interface CommandSpec {
  command: string;
  describe: string;
  builder: (yargs: Argv) => Argv;
  run: (args: Record<string, unknown>, context: CommandContext) => Promise<ExitCode>;
}

/** `-d NAME`, repeatable, shared by the commands that read destinations. */
export function destinationOption(yargs: Argv, describe: string): Argv {
  return yargs.option('destination', {
    alias: 'd',
    type: 'string',
    array: true,
    requiresArg: true,
    describe,
  });
}

/** The `-d` values, flattened (yargs gives an array, or nothing). */
export function destinationNames(args: Record<string, unknown>): string[] | undefined {
  const value = args.destination;
  if (value === undefined) return undefined;
  return (Array.isArray(value) ? value : [value]).map(String);
}
