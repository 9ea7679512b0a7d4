import type { RunEvent, RunSummary } from '@matric-backup/core';
import type { Printer } from './printer.js';

/**
 * `run --json-lines`: the run's events one JSON object a line on stdout as they happen, for a
 * supervisor that shows or records progress. Progress ticks (bytes so far) are left out: the
 * lines say what happened, not how far it is.
 */
export function runEventLines(printer: Printer): {
  onEvent(event: RunEvent): void;
  end(summary: RunSummary): void;
} {
  return {
    onEvent(event) {
      const line = eventLine(event);
      if (line) printer.event(...line);
    },
    // Retention ran after the uploads, inside core's run; its outcome is in the summary.
    end(summary) {
      for (const result of summary.destinations)
        if (result.prune) printer.event('retention', { destination: result.name, ...result.prune });
    },
  };
}

/** The event's name and fields, or undefined for a progress tick. */
function eventLine(event: RunEvent): [string, object] | undefined {
  switch (event.type) {
    case 'archive-start':
      return ['archive_started', {}];
    case 'archive-done':
      return [
        'archive_finished',
        { files: event.files, bytes_in: event.bytesIn, bytes_out: event.bytesOut, sha256: event.sha256 },
      ];
    case 'upload-start':
      return ['upload_started', { destination: event.destination, size: event.size }];
    case 'upload-retry':
      return [
        'upload_retry',
        {
          destination: event.destination,
          attempt: event.attempt,
          delay_ms: event.delayMs,
          error: event.error,
        },
      ];
    case 'upload-done':
      return [
        'upload_finished',
        { destination: event.destination, status: event.status, ...(event.error && { error: event.error }) },
      ];
    case 'warning':
      return ['warning', { warning: event.warning }];
    case 'hook-output':
      return ['hook_output', { hook: event.hook, line: event.line }];
    default:
      return undefined;
  }
}
