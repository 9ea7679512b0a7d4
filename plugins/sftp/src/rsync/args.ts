import { DestinationError } from '@matric-backup/plugin-api';

/**
 * rsync argument building. Paths travel as separate argv entries (no shell) and
 * `--protect-args` keeps the remote side from word-splitting them; the only
 * string rsync itself parses is the `-e` ssh command line, quoted below.
 */

/** Flags every call uses: plain numbers, protected remote args, raw 8-bit names, no stalled transfers. */
export function baseArgs(ioTimeoutSeconds: number): string[] {
  return [
    '--no-human-readable',
    '--protect-args',
    '--8-bit-output',
    `--timeout=${Math.ceil(ioTimeoutSeconds)}`,
  ];
}

/**
 * An rsync filter pattern matching exactly one name in the transfer root. Wildcard
 * characters are escaped with a backslash (keys cannot contain one, so this is
 * unambiguous); a leading `/` anchors the pattern to the root.
 */
export function exactNamePattern(name: string): string {
  return `/${name.replace(/[*?[]/g, '\\$&')}`;
}

/**
 * Quotes one word of the `-e` command for rsync's own splitter, which honours
 * single and double quotes but not backslashes.
 */
export function quoteShellWord(word: string): string {
  if (/^[\w@%+=:,./-]+$/.test(word)) return word;
  if (!word.includes("'")) return `'${word}'`;
  if (!word.includes('"')) return `"${word}"`;
  throw new DestinationError(
    'CONFIG',
    `cannot pass ${JSON.stringify(word)} to ssh: it contains both kinds of quotes`,
    {
      retryable: false,
    },
  );
}
