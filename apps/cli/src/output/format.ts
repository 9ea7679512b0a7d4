const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

/** 1536 -> "1.5 KiB"; binary units, as `du -h` and `ls -lh` print them. */
export function formatBytes(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(value < 10 ? 1 : 0)} ${UNITS[unit]}`;
}

/** 1234 -> "1.2 s", 95000 -> "1 min 35 s". */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const minutes = Math.floor(ms / 60_000);
  const seconds = Math.round((ms % 60_000) / 1000);
  return minutes < 60 ? `${minutes} min ${seconds} s` : `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

/** Bytes per second over an elapsed time, e.g. "85 MiB/s"; empty until there is something to measure. */
export function formatRate(bytes: number, elapsedMs: number): string {
  return elapsedMs > 0 && bytes > 0 ? `${formatBytes((bytes * 1000) / elapsedMs)}/s` : '';
}

export function formatCount(n: number, noun: string, plural = `${noun}s`): string {
  return `${n.toLocaleString('en-US')} ${n === 1 ? noun : plural}`;
}

/** ISO timestamps shortened for tables: "2025-01-31 02:00:04Z". */
export function formatTime(iso: string | Date): string {
  const text = typeof iso === 'string' ? iso : iso.toISOString();
  return text.replace('T', ' ').replace(/\.\d+Z$/, 'Z');
}
