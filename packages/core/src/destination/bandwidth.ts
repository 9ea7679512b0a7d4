import { pipeline, type Readable, Transform, type TransformCallback } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Destination, OperationOptions, PutOptions } from '@matric-backup/plugin-api';
import { forward } from './forward.js';

/** What the pacer reads time from; a test gives a fake one. */
export interface PacerClock {
  /** Milliseconds, monotonic. */
  now(): number;
  sleep(ms: number): Promise<void>;
}

const realClock: PacerClock = { now: () => performance.now(), sleep: (ms) => sleep(ms) };

/** Bytes may run ahead of the rate by this much time's worth (a token bucket's depth). */
const BURST_MS = 100;

/**
 * A byte budget shared by every stream of one destination: bytes pass at
 * `bytesPerSecond` on average. It keeps the time at which the bytes let through
 * so far are paid for (a token bucket kept as that one instant); a piece waits
 * until it is at most BURST_MS ahead of the clock, so idle time earns no flood
 * afterwards. Chunks are cut to a tenth of a second's worth, so one 1 MiB read
 * cannot jump the budget.
 */
export class Pacer {
  readonly #bytesPerMs: number;
  readonly #clock: PacerClock;
  /** When the bytes let through so far are paid for. */
  #paidUntil: number;

  constructor(
    readonly bytesPerSecond: number,
    clock: PacerClock = realClock,
  ) {
    this.#bytesPerMs = bytesPerSecond / 1000;
    this.#clock = clock;
    this.#paidUntil = clock.now();
  }

  /** The most bytes one piece may hold. */
  get pieceSize(): number {
    return Math.max(1, Math.floor(this.bytesPerSecond / 10));
  }

  /** Resolves when `bytes` more may pass. */
  async take(bytes: number): Promise<void> {
    const now = this.#clock.now();
    this.#paidUntil = Math.max(this.#paidUntil, now) + bytes / this.#bytesPerMs;
    const wait = this.#paidUntil - now - BURST_MS;
    if (wait > 0) await this.#clock.sleep(wait);
  }

  /** A stream that passes what is written to it at the pacer's rate. */
  stream(): Transform {
    return new PacedStream(this);
  }
}

class PacedStream extends Transform {
  constructor(readonly pacer: Pacer) {
    super();
  }

  override _transform(chunk: Buffer | string, encoding: BufferEncoding, done: TransformCallback): void {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk, encoding) : chunk;
    this.#pass(bytes).then(
      () => done(),
      (error: Error) => done(error),
    );
  }

  async #pass(bytes: Buffer): Promise<void> {
    const size = this.pacer.pieceSize;
    for (let offset = 0; offset < bytes.length; offset += size) {
      const piece = bytes.subarray(offset, offset + size);
      await this.pacer.take(piece.length);
      if (this.destroyed) return;
      this.push(piece);
    }
  }
}

/**
 * Wraps a Destination so that its put bodies and get streams together move at
 * most `bytesPerSecond` (the block's `bandwidth_limit`). A put's `sourcePath`
 * is withheld from the plugin: a plugin reading the file itself (a kernel copy,
 * rsync, smbclient) would bypass the limit, so it reads the paced body instead.
 */
export function bandwidthLimited(inner: Destination, pacer: Pacer): Destination {
  return {
    ...forward(inner),
    put(key: string, body: Readable, options: PutOptions) {
      const { sourcePath: _withheld, ...rest } = options;
      return inner.put(key, paced(body, pacer), rest);
    },
    async get(key: string, options?: OperationOptions) {
      return paced(await inner.get(key, options), pacer);
    },
  };
}

/** `source` through the pacer; an error on either side ends both. */
function paced(source: Readable, pacer: Pacer): Readable {
  const out = pacer.stream();
  pipeline(source, out, () => undefined);
  return out;
}
