/** Calls `emit` with a pushed value at most once per `intervalMs`, dropping the ones in between. */
export function throttle<T>(emit: (value: T) => void, intervalMs = 100): { push(value: T): void } {
  let last = Number.NEGATIVE_INFINITY;
  return {
    push(value: T) {
      const now = performance.now();
      if (now - last < intervalMs) return;
      last = now;
      emit(value);
    },
  };
}
