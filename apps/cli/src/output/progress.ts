import type { RunEvent } from '@matric-backup/core';
import cliProgress from 'cli-progress';
import { formatBytes, formatCount, formatDuration, formatRate } from './format.js';
import type { Printer } from './printer.js';

/** Receives core's RunEvents while a run is going; `stop` before printing the summary. */
export interface RunObserver {
  onEvent(event: RunEvent): void;
  stop(): void;
}

/**
 * Progress bars (archive, then one per destination) for a person at a TTY;
 * otherwise only warnings and retries, one line each, so logs stay readable.
 */
export function createRunObserver(printer: Printer): RunObserver {
  return printer.interactive ? new BarsObserver(printer) : new LinesObserver(printer);
}

class LinesObserver implements RunObserver {
  constructor(private readonly printer: Printer) {}

  onEvent(event: RunEvent): void {
    if (event.type === 'warning') this.printer.warn(event.warning.message);
    else if (event.type === 'hook-output') this.printer.log(hookLine(event));
    else if (event.type === 'upload-retry') this.printer.warn(retryText(event));
  }

  stop(): void {}
}

interface BarPayload {
  label: string;
  detail: string;
}

class BarsObserver implements RunObserver {
  private readonly bars: cliProgress.MultiBar;
  private archive?: cliProgress.SingleBar;
  private archiveStarted = 0;
  private readonly uploads = new Map<string, cliProgress.SingleBar>();

  constructor(private readonly printer: Printer) {
    this.bars = new cliProgress.MultiBar(
      {
        stream: printer.stderr,
        format: renderBar,
        hideCursor: true,
        clearOnComplete: false,
        autopadding: true,
      },
      cliProgress.Presets.shades_classic,
    );
  }

  onEvent(event: RunEvent): void {
    switch (event.type) {
      case 'archive-start':
        this.archiveStarted = Date.now();
        this.archive = this.bars.create(0, 0, {
          label: 'archive',
          detail: 'reading sources',
        } satisfies BarPayload);
        break;
      case 'archive-progress':
      case 'archive-done': {
        const elapsed = Date.now() - this.archiveStarted;
        const done = event.type === 'archive-done' ? ` in ${formatDuration(elapsed)}` : '';
        this.archive?.update(0, {
          label: 'archive',
          detail: `${formatCount(event.files, 'file')}  ${formatBytes(event.bytesIn)} read -> ${formatBytes(event.bytesOut)}  ${formatRate(event.bytesIn, elapsed)}${done}`,
        } satisfies BarPayload);
        break;
      }
      case 'upload-start':
        this.uploads.set(
          event.destination,
          this.bars.create(event.size, 0, { label: event.destination, detail: '' }),
        );
        break;
      case 'upload-progress':
        this.uploads.get(event.destination)?.update(event.bytes);
        break;
      case 'upload-retry':
        this.bars.log(`${this.printer.redact(`warning: ${retryText(event)}`)}\n`);
        this.uploads.get(event.destination)?.update(0);
        break;
      case 'upload-done': {
        const bar = this.uploads.get(event.destination);
        if (event.status === 'success') bar?.update(bar.getTotal(), { detail: 'done' });
        else bar?.update({ detail: 'FAILED' });
        break;
      }
      case 'warning':
        this.bars.log(`${this.printer.redact(`warning: ${event.warning.message}`)}\n`);
        break;
      case 'hook-output':
        this.bars.log(`${this.printer.redact(hookLine(event))}\n`);
        break;
    }
  }

  stop(): void {
    this.bars.stop();
  }
}

function hookLine(event: Extract<RunEvent, { type: 'hook-output' }>): string {
  return `${event.hook}: ${event.line}`;
}

/** One line per bar: bytes, rate and ETA for uploads; counts and rate for the archive, whose total is unknown. */
const renderBar: cliProgress.GenericFormatter = (options, params, payload: BarPayload) => {
  const label = payload.label.padEnd(16).slice(0, 16);
  if (params.total === 0) return `${label}  ${payload.detail}`;
  const width = options.barsize ?? 30;
  const filled = Math.round(Math.min(1, params.progress) * width);
  const bar =
    (options.barCompleteChar ?? '#').repeat(filled) +
    (options.barIncompleteChar ?? '-').repeat(width - filled);
  const percent = `${Math.floor(params.progress * 100)}%`.padStart(4);
  const rate = formatRate(params.value, Date.now() - params.startTime);
  const eta =
    params.value < params.total && Number.isFinite(params.eta)
      ? `ETA ${formatDuration(params.eta * 1000)}`
      : '';
  const detail = payload.detail || [rate, eta].filter(Boolean).join('  ');
  return `${label}  ${bar} ${percent}  ${formatBytes(params.value)} / ${formatBytes(params.total)}  ${detail}`;
};

function retryText(event: Extract<RunEvent, { type: 'upload-retry' }>): string {
  return `destination "${event.destination}": attempt ${event.attempt} failed (${event.error.code}: ${event.error.message}); retrying in ${formatDuration(event.delayMs)}`;
}

/** One bar of bytes read (verify, restore); a no-op unless a person is watching. */
export function createByteBar(
  printer: Printer,
  label: string,
): { update(bytes: number, total: number): void; stop(): void } {
  if (!printer.interactive) return { update() {}, stop() {} };
  const bar = new cliProgress.SingleBar({
    stream: printer.stderr,
    format: renderBar,
    hideCursor: true,
    clearOnComplete: true,
  });
  let started = false;
  return {
    update(bytes, total) {
      if (!started) bar.start(total, 0, { label, detail: '' } satisfies BarPayload);
      started = true;
      bar.update(bytes);
    },
    stop() {
      if (started) bar.stop();
    },
  };
}
