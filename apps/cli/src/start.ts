// The CLI process: output failures, signals, then the command. Loaded by bin.ts for everything but `--version`.
import { interruptAndCleanUp } from '@matric-backup/core';
import { main } from './cli.js';
import { ExitCode } from './exit-codes.js';
import { absorbOutputFailures } from './output/absorb-failures.js';

// `run | head`, `2>/dev/full`: output that cannot be written is dropped, the backup goes on. Closing a
// pipe is the reader's choice; any other failure of stdout is said once on stderr.
absorbOutputFailures(process.stdout, (error) => {
  if (error.code !== 'EPIPE')
    process.stderr.write(
      `warning: standard output cannot be written (${error.code ?? error.message}); further output is dropped\n`,
    );
});
absorbOutputFailures(process.stderr);

/** How long uploads in flight get to abort cleanly (remove their temporary object) after Ctrl-C or SIGTERM. */
const UPLOAD_ABORT_GRACE_MS = 5000;

// Ctrl-C or SIGTERM: abort uploads in flight (each removes what it began), remove what only made sense
// while running (spool files, the run lock, a restore's temporary folder), then exit. A second Ctrl-C
// gets Node's default: an immediate exit.
for (const [signal, code] of [
  ['SIGINT', ExitCode.INTERRUPTED],
  ['SIGTERM', ExitCode.TERMINATED],
] as const) {
  process.once(signal, () => {
    void interruptAndCleanUp(UPLOAD_ABORT_GRACE_MS, signal).finally(() => {
      process.stderr.write(
        `interrupted by ${signal}: uploads in flight were aborted; this run's spool files, lock and temporary restore folder were removed\n`,
      );
      process.exit(code);
    });
  });
}

// If nothing is left to run but the command never finished (a stream that never ended), Node would exit
// silently with code 13; say so instead, with an exit code scripts treat as a failure.
let finished = false;
process.on('beforeExit', () => {
  if (finished) return;
  process.stderr.write(
    'error: the command stopped before finishing (nothing left to wait for); this is a bug\n',
  );
  process.exit(1);
});
process.exitCode = await main(process.argv.slice(2));
finished = true;
