import { closeSync, openSync, writeSync } from 'node:fs';
import type { SourceWarning } from '../sources/types.js';
import type { InnerManifest, InnerManifestEntry } from './format.js';

const FLUSH_AT = 64 * 1024;

/**
 * Writes the inner manifest (`manifest.json`) to a 0600 file entry by entry, so
 * a tree of millions of files does not hold millions of objects in memory. The
 * file is a plain InnerManifest JSON document once finish() returns. Entries are
 * encoded straight into one reused buffer: a string built up between flushes
 * lives long enough to be promoted to V8's old generation, which grew the heap
 * by ~25 MB of garbage while archiving the bench dataset.
 */
export class InnerManifestWriter {
  private readonly fd: number;
  private readonly buffer = Buffer.allocUnsafe(FLUSH_AT);
  private filled = 0;
  private count = 0;
  private open = true;

  constructor(
    readonly file: string,
    header: Omit<InnerManifest, 'entries'>,
  ) {
    this.fd = openSync(file, 'wx', 0o600);
    const empty = JSON.stringify({ ...header, entries: [] } satisfies InnerManifest);
    // `entries` is the last key: cut its closing `]}` and append entries as they come.
    this.append(empty.slice(0, -2));
  }

  add(entry: InnerManifestEntry): void {
    this.append((this.count++ === 0 ? '' : ',') + JSON.stringify(entry));
  }

  /**
   * Closes `entries`; what is known only now follows it: the paths not archived
   * whole and, in an incremental shard, the paths deleted since its parent.
   */
  finish(warnings: readonly SourceWarning[] = [], deleted?: readonly string[]): void {
    let tail = ']';
    if (warnings.length) tail += `,"warnings":${JSON.stringify(warnings)}`;
    if (deleted) tail += `,"deleted":${JSON.stringify(deleted)}`;
    this.append(`${tail}}`);
    this.close();
  }

  /** Idempotent; the caller removes the file. */
  close(): void {
    if (!this.open) return;
    try {
      this.flush();
    } finally {
      this.open = false;
      closeSync(this.fd);
    }
  }

  private append(text: string): void {
    // UTF-8 takes at most 3 bytes per UTF-16 code unit.
    if (this.filled + text.length * 3 > this.buffer.length) this.flush();
    if (text.length * 3 > this.buffer.length) this.writeAll(Buffer.from(text, 'utf8'));
    else this.filled += this.buffer.write(text, this.filled, 'utf8');
  }

  private flush(): void {
    this.writeAll(this.buffer.subarray(0, this.filled));
    this.filled = 0;
  }

  private writeAll(bytes: Buffer): void {
    let offset = 0;
    while (offset < bytes.length) offset += writeSync(this.fd, bytes, offset);
  }
}
