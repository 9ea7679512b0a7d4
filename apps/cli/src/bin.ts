#!/usr/bin/env -S node --max-semi-space-size=2
// A small young generation keeps peak memory flat while gigabytes stream through:
// measured 170 -> 133 MB peak RSS for a 1 GiB backup, at the same speed.
import { readFileSync } from 'node:fs';

// `--version` alone is answered before the CLI's modules load: loading them is most of the start-up
// (0.43 s against 0.085 s for node itself), and scripts and installers ask for the version often.
if (process.argv.length === 3 && process.argv[2] === '--version') {
  const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
  process.stdout.write(`${version}\n`);
} else {
  await import('./start.js');
}
