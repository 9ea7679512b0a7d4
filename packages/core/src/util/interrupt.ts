/**
 * Undo steps for an interrupted process (Ctrl-C, SIGTERM). While core works it
 * leaves things on disk that only make sense while it runs: spool files, the run
 * lock, a restore's temporary folder. Each registers a synchronous cleanup here,
 * and the CLI's signal handler runs them before it exits. Without them an
 * interrupted run left a `.partial` spool file and a lock the next run had to
 * judge stale, and an interrupted restore left its temporary folder beside the
 * target. Synchronous on purpose: a signal handler that exits cannot wait.
 */
const cleanups = new Set<() => void>();

/** Registers `cleanup`; returns the function that unregisters it (call it once the work is done). */
export function onInterrupt(cleanup: () => void): () => void {
  cleanups.add(cleanup);
  return () => {
    cleanups.delete(cleanup);
  };
}

/** Runs every registered cleanup once, newest first; a failing one does not stop the others. */
export function runInterruptCleanups(): void {
  const pending = [...cleanups].reverse();
  cleanups.clear();
  for (const cleanup of pending) {
    try {
      cleanup();
    } catch {
      // Best effort: the process is exiting; what is left is what a crash would leave.
    }
  }
}
