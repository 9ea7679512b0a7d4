import { describe, expect, it } from 'vitest';
import { type UsageContext, usageError } from '../src/usage-errors.js';

const commands = ['run', 'list', 'restore', 'status'];
const at = (argv: string[], extra: Partial<UsageContext> = {}): UsageContext => ({
  argv,
  commands,
  options: ['help', 'version', 'config', 'json', 'destination'],
  ...extra,
});

describe('usageError: yargs messages in our words', () => {
  it('an unknown command, with the one it was probably meant to be', () => {
    const error = usageError('Unknown argument: lsit', at(['lsit']));
    expect(error.code).toBe('USAGE');
    expect(error.message).toBe("unknown command 'lsit'; did you mean 'list'?");
    expect(error.hint).toContain('run, list, restore, status');
    expect(usageError('Unknown argument: frobnicate', at(['frobnicate'])).message).toBe(
      "unknown command 'frobnicate'",
    );
  });

  it('an unknown option of a command, negated or with a value', () => {
    const context = at(['list', '--destnation=x'], { command: 'list' });
    expect(usageError('Unknown argument: destnation', context).message).toBe(
      "unknown option '--destnation' for list; did you mean '--destination'?",
    );
    const negated = at(['list', '--no-jsn'], { command: 'list' });
    expect(usageError('Unknown argument: jsn', negated).message).toBe(
      "unknown option '--no-jsn' for list; did you mean '--no-json'?",
    );
    expect(usageError('Unknown arguments: a, b', at(['list', 'a', 'b'], { command: 'list' })).message).toBe(
      "list takes no argument 'a' (nor b)",
    );
  });

  it('a missing argument names it from the usage line; a missing value names the option', () => {
    const context = at(['restore'], { command: 'restore', usage: '$0 restore <shard>' });
    expect(usageError('Not enough non-option arguments: got 0, need at least 1', context).message).toBe(
      'restore needs <shard> (matric-backup restore <shard>)',
    );
    expect(usageError('Not enough arguments following: c', at(['list', '-c'])).message).toBe(
      'option -c needs a value',
    );
    expect(usageError('Missing required argument: keep', at(['x'], { command: 'cleanup' })).message).toBe(
      'cleanup needs --keep',
    );
  });

  it('choices, exclusive options and no command at all', () => {
    const choices = 'Invalid values:\n  Argument: conflict, Given: "zz", Choices: "skip", "overwrite"';
    expect(usageError(choices, at([])).message).toBe(
      'option --conflict must be one of skip, overwrite (given: zz)',
    );
    expect(usageError('Arguments to and in-place are mutually exclusive', at([])).message).toBe(
      'options --to and --in-place cannot be used together',
    );
    expect(usageError('name a command', at([])).message).toBe(
      'name a command: matric-backup <command>; the commands are run, list, restore, status',
    );
  });
});
