// Loaded with `node --import` into the process being measured: on exit, writes
// its peak resident set size (kilobytes, from getrusage) to $MATRIC_BENCH_RSS_FILE.
import { writeFileSync } from 'node:fs';

const target = process.env.MATRIC_BENCH_RSS_FILE;
if (target) {
  process.on('exit', () => writeFileSync(target, `${process.resourceUsage().maxRSS}\n`));
}
