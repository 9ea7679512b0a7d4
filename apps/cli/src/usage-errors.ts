import { closestName, MatricError } from '@matric-backup/core';

/** What yargs knows when it refuses the command line: the command's option names and its usage line. */
export interface UsageContext {
  argv: readonly string[];
  /** Every command's name. */
  commands: readonly string[];
  /** The command that was named, if any. */
  command?: string;
  /** The options the named command (or the top level) accepts, without dashes. */
  options: readonly string[];
  /** `matric-backup restore <id>`, for a missing positional. */
  usage?: string;
}

/**
 * yargs' own messages ("Unknown argument: lsit", "Not enough non-option arguments: got 0, need at
 * least 1") in this tool's words, with a "did you mean" where one name is close: a USAGE error (exit 2).
 */
export function usageError(message: string, context: UsageContext): MatricError {
  const help = `see \`matric-backup ${context.command ? `${context.command} ` : ''}--help\``;
  const error = (text: string, hint = help) => new MatricError('USAGE', text, { hint });
  const { argv, command } = context;

  const unknown = /^Unknown arguments?: (.*)$/s.exec(message);
  if (unknown) {
    const names = unknown[1]!.split(', ');
    const first = names[0]!;
    const asOption = argv.find((arg) => optionName(arg) === first || optionName(arg) === `no-${first}`);
    if (asOption !== undefined) {
      const given = optionName(asOption)!;
      // `--no-jsn` is yargs' negation of `jsn`: the suggestion keeps the `no-`.
      const negation = given === `no-${first}` ? 'no-' : '';
      const close = closestName(first, context.options);
      const meant = close === undefined ? undefined : `${negation}${close}`;
      const where = command ? ` for ${command}` : '';
      return error(
        `unknown option '--${given}'${where}${meant ? `; did you mean '--${meant}'?` : ''}`,
        meant ? help : `${help} for the options it takes`,
      );
    }
    if (!command) {
      const meant = closestName(first, context.commands);
      return error(
        `unknown command '${first}'${meant ? `; did you mean '${meant}'?` : ''}`,
        `the commands are ${context.commands.join(', ')}; see \`matric-backup --help\``,
      );
    }
    return error(
      `${command} takes no argument '${first}'${names.length > 1 ? ` (nor ${names.slice(1).join(', ')})` : ''}`,
    );
  }
  const missing = /^Not enough non-option arguments: got (\d+), need at least (\d+)$/.exec(message);
  if (missing) {
    const line = context.usage?.replace(/^\$0\b/, 'matric-backup');
    const wanted = (line?.match(/<[^>]+>/g) ?? []).slice(Number(missing[1]));
    const what = wanted.length > 0 ? wanted.join(' ') : 'an argument';
    return error(`${command ?? 'the command'} needs ${what}${line ? ` (${line})` : ''}`);
  }
  const tooMany = /^Too many non-option arguments: got (\d+), maximum of (\d+)$/.exec(message);
  if (tooMany) {
    const extra = argv.filter((arg) => !arg.startsWith('-')).slice(1 + Number(tooMany[2]));
    return error(
      `${command ?? 'the command'} takes at most ${tooMany[2]} argument${tooMany[2] === '1' ? '' : 's'}; remove ${extra.map((arg) => `'${arg}'`).join(', ') || 'the extra ones'}`,
    );
  }
  const noValue = /^Not enough arguments following: (.*)$/.exec(message);
  if (noValue) return error(`option ${dashed(noValue[1]!)} needs a value`);
  const required = /^Missing required arguments?: (.*)$/.exec(message);
  if (required)
    return error(`${command ?? 'the command'} needs ${required[1]!.split(', ').map(dashed).join(' and ')}`);
  const choices = /^Invalid values:\s*Argument: (\S+), Given: (.*), Choices: (.*)$/s.exec(message);
  if (choices)
    return error(
      `option ${dashed(choices[1]!)} must be one of ${choices[3]!.replace(/"/g, '').trim()} (given: ${choices[2]!.replace(/"/g, '')})`,
    );
  const exclusive = /^Arguments (\S+) and (\S+) are mutually exclusive$/.exec(message);
  if (exclusive)
    return error(`options ${dashed(exclusive[1]!)} and ${dashed(exclusive[2]!)} cannot be used together`);
  if (message === 'name a command')
    return error(
      `name a command: matric-backup <command>; the commands are ${context.commands.join(', ')}`,
      'see `matric-backup --help`',
    );
  return error(message);
}

/** `--max-age=3` -> `max-age`; not an option -> undefined. */
function optionName(arg: string): string | undefined {
  const match = /^--?([^=]+)/.exec(arg);
  return match ? match[1] : undefined;
}

function dashed(name: string): string {
  return name.length === 1 ? `-${name}` : `--${name}`;
}
