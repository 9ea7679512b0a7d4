import { setMaxListeners } from 'node:events';

/**
 * Undo steps for an interrupted process (Ctrl-C, SIGTERM). While core works it
 * leaves things on disk that only make sense while it runs: spool files, the run
 * lock, a restore's temporary folder. Each registers a synchronous cleanup here,
 * and the CLI's signal handler runs them before it exits (after giving in-flight
 * uploads a moment to abort cleanly, see interruptAndCleanUp). Without them an
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

/**
 * What an interrupted operation still has to say (a run's history record and
 * notifications): awaited after the work in flight stopped, before the
 * synchronous cleanups (the run lock is still held while it is written).
 */
const reports = new Set<() => Promise<void>>();
/** The signal that interrupted the process (`SIGTERM`, `SIGINT`), once one did. */
let interruptedBy: string | undefined;

/** Registers `report`; returns the function that unregisters it. */
export function onInterruptReport(report: () => Promise<void>): () => void {
  reports.add(report);
  return () => {
    reports.delete(report);
  };
}

/** The signal that interrupted this process, or undefined while none did. */
export function interruptingSignal(): string | undefined {
  return interruptedBy;
}

const interruption = new AbortController();
// Every destination operation in flight listens to this signal (a prune of 1,000
// shards reads hundreds of sidecars at once) and removes its listener when it
// settles, so Node's default of 10 is no sign of a leak here: without this, such
// runs printed a MaxListenersExceededWarning.
setMaxListeners(0, interruption.signal);
/**
 * Aborted once the process is interrupted (see interruptAndCleanUp): uploads
 * get it as their put's `signal`, so a destination stops and removes what it
 * began (a temporary file, a multipart upload) instead of leaving it behind.
 */
export const interruptSignal: AbortSignal = interruption.signal;
const stopping = new Set<Promise<unknown>>();

/** Registers `work` (an upload) that the interrupt waits for, after aborting it, before exiting. */
export function stopCleanlyOnInterrupt<T>(work: Promise<T>): Promise<T> {
  stopping.add(work);
  const forget = () => stopping.delete(work);
  work.then(forget, forget);
  return work;
}

/**
 * What a signal handler runs before it exits: aborts interruptSignal, waits
 * up to `graceMs` for the registered work to settle (an upload removing its
 * temporary object), then up to `graceMs` for the reports (see
 * onInterruptReport), then runs the synchronous cleanups.
 */
export async function interruptAndCleanUp(graceMs: number, signal = 'an interrupt'): Promise<void> {
  interruptedBy = signal;
  // An AbortError, so a plugin's signal.throwIfAborted() rejects the way the contract asks (core maps it to ABORTED).
  interruption.abort(new DOMException('interrupted', 'AbortError'));
  if (stopping.size > 0) {
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, graceMs);
    });
    await Promise.race([Promise.allSettled([...stopping]), grace]);
    clearTimeout(timer);
  }
  if (reports.size > 0) {
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, graceMs);
    });
    const pending = [...reports].map((report) => report().catch(() => undefined));
    reports.clear();
    await Promise.race([Promise.all(pending), grace]);
    clearTimeout(timer);
  }
  runInterruptCleanups();
}
