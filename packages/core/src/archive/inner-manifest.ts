import { closeSync, openSync, writeSync } from 'node:fs';
import type { InnerManifest, InnerManifestEntry } from '../shard/manifest.js';

const FLUSH_AT = 64 * 1024;

/**
 * Writes the inner manifest (`manifest.json`) to a 0600 file entry by entry, so
 * a tree of millions of files does not hold millions of objects in memory. The
 * file is a plain InnerManifest JSON document once finish() returns.
 */
export class InnerManifestWriter {
  private readonly fd: number;
  private pending = '';
  private count = 0;
  private open = true;

  constructor(
    readonly file: string,
    header: Omit<InnerManifest, 'entries'>,
  ) {
    this.fd = openSync(file, 'wx', 0o600);
    const empty = JSON.stringify({ ...header, entries: [] } satisfies InnerManifest);
    // `entries` is the last key: cut its closing `]}` and append entries as they come.
    this.pending = empty.slice(0, -2);
  }

  add(entry: InnerManifestEntry): void {
    this.pending += (this.count++ === 0 ? '' : ',') + JSON.stringify(entry);
    if (this.pending.length >= FLUSH_AT) this.flush();
  }

  finish(): void {
    this.pending += ']}';
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

  private flush(): void {
    const bytes = Buffer.from(this.pending, 'utf8');
    this.pending = '';
    let offset = 0;
    while (offset < bytes.length) offset += writeSync(this.fd, bytes, offset);
  }
}
