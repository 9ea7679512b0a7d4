// Renders docs/matric-backup.1 from the built CLI's own --help, so the man page says what the CLI
// says: `pnpm man` after a change to a command; `--check` (run by test/cli-config.test.ts) fails while
// the committed page is out of date.
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { promisify } from 'node:util';

const bin = new URL('../apps/cli/dist/bin.js', import.meta.url);
const out = new URL('../docs/matric-backup.1', import.meta.url);

/** The help text as a user without a terminal sees it (fixed width, no colors). */
const help = async (args) =>
  (
    await promisify(execFile)(process.execPath, [bin.pathname, ...args, '--help'], {
      encoding: 'utf8',
      env: { ...process.env, NO_COLOR: '1' },
    })
  ).stdout;

/** Text a roff line may hold: backslashes and leading dots and quotes escaped. */
const roff = (text) =>
  text
    .replace(/\\/g, '\\e')
    .split('\n')
    .map((line) => (/^[.']/.test(line) ? `\\&${line}` : line))
    .join('\n');

async function manPage() {
  const top = await help([]);
  const commands = [...top.matchAll(/^ {2}matric-backup (\w+)/gm)].map((match) => match[1]);
  const sections = [
    // No version in the page: a release bumps it without changing any help (`--version` says it).
    '.TH MATRIC-BACKUP 1 "" "matric-backup" "User Commands"',
    '.SH NAME',
    'matric-backup \\- one backup run builds one shard and stores it on every enabled destination',
    '.SH SYNOPSIS',
    '.nf',
    roff(top.trimEnd()),
    '.fi',
  ];
  const helps = await Promise.all(commands.map((command) => help([command])));
  for (const [index, command] of commands.entries()) {
    sections.push(`.SH COMMAND: ${command.toUpperCase()}`, '.nf', roff(helps[index].trimEnd()), '.fi');
  }
  sections.push('.SH SEE ALSO', 'docs/cli.md and docs/configuration.md in the package');
  return `${sections.join('\n')}\n`;
}

const page = await manPage();
if (process.argv.includes('--check')) {
  if (readFileSync(out, 'utf8') !== page) {
    process.stderr.write("docs/matric-backup.1 is out of date with the CLI's --help: run `pnpm man`\n");
    process.exitCode = 1;
  }
} else {
  writeFileSync(out, page);
  process.stdout.write(`wrote ${out.pathname}\n`);
}
