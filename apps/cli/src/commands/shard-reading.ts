import { resolve } from 'node:path';
import type { Argv } from 'yargs';
import type { CommandContext } from '../context.js';
import { destinationOption } from './command.js';

/** `-d NAME` and `--identity FILE`, shared by ls, find, diff and dump. */
export function readingOptions<T>(yargs: Argv<T>) {
  return destinationOption(
    yargs,
    'Read from this destination (repeatable, tried in the order given); default: every enabled one in config order, the next tried when one fails',
  ).option('identity', {
    type: 'string',
    requiresArg: true,
    describe: 'age identity file of an encrypted shard (default: backup.encryption.identity_file)',
  });
}

/** `-d` as given, and `--identity` (relative to the current folder) over the config's keys. */
export function readingRequest(
  args: { destination?: string[]; identity?: string },
  context: CommandContext,
  config: { backup: { encryption?: { identity_file?: string; gpg_homedir?: string } } },
) {
  const encryption = config.backup.encryption;
  const identity =
    typeof args.identity === 'string' ? resolve(context.cwd, args.identity) : encryption?.identity_file;
  return {
    ...(args.destination && { destinations: args.destination }),
    keys: {
      ...(identity !== undefined && { identity }),
      ...(encryption?.gpg_homedir !== undefined && { gpgHomedir: encryption.gpg_homedir }),
    },
  };
}
