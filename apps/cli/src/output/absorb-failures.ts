/**
 * Output that cannot be written must never abort a backup: stdout piped into
 * `head`, which exits early (EPIPE), or stderr redirected to a full disk
 * (ENOSPC). Unguarded, the first such write threw (a file) or emitted an
 * unhandled 'error' (a pipe) in the middle of a run, which then stored
 * nothing, recorded no history and left its lock and spool behind. Here the
 * first failure marks the stream broken and every later write to it is
 * dropped; the run itself carries on and exits with its own code.
 * `onFirstFailure` is told once (to say so on the other stream).
 */
export function absorbOutputFailures(
  stream: NodeJS.WriteStream,
  onFirstFailure: (error: NodeJS.ErrnoException) => void = () => undefined,
): void {
  let broken = false;
  const fail = (error: unknown) => {
    if (broken) return;
    broken = true;
    onFirstFailure(error as NodeJS.ErrnoException);
  };
  stream.on('error', fail);
  const write = stream.write.bind(stream) as (...args: unknown[]) => boolean;
  stream.write = ((...args: unknown[]) => {
    const callback = args.find((arg) => typeof arg === 'function') as (() => void) | undefined;
    if (broken) {
      if (callback) process.nextTick(callback);
      return true;
    }
    try {
      return write(...args);
    } catch (error) {
      // A file (stderr on /dev/full) fails synchronously.
      fail(error);
      if (callback) process.nextTick(callback);
      return true;
    }
  }) as typeof stream.write;
}
