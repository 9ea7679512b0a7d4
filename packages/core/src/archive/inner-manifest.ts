import { closeSync, openSync } from 'node:fs';
import type { SourceWarning } from '../sources/types.js';
import { BufferedTextWriter } from '../util/buffered-text-writer.js';
import type { InnerManifest, InnerManifestEntry } from './format.js';

/**
 * Writes the inner manifest (`manifest.json`) to a 0600 file entry by entry, so
 * a tree of millions of files does not hold millions of objects in memory. The
 * file is a plain InnerManifest JSON document once finish() returns.
 */
export class InnerManifestWriter {
  private readonly fd: number;
  private readonly out: BufferedTextWriter;
  private count = 0;
  private open = true;

  constructor(
    readonly file: string,
    header: Omit<InnerManifest, 'entries'>,
  ) {
    this.fd = openSync(file, 'wx', 0o600);
    this.out = new BufferedTextWriter(this.fd);
    const empty = JSON.stringify({ ...header, entries: [] } satisfies InnerManifest);
    // `entries` is the last key: cut its closing `]}` and append entries as they come.
    this.out.append(empty.slice(0, -2));
  }

  add(entry: InnerManifestEntry): void {
    this.out.append((this.count++ === 0 ? '' : ',') + JSON.stringify(entry));
  }

  /**
   * Closes `entries`; what is known only now follows it: the paths not archived
   * whole and, in an incremental shard, the paths deleted since its parent.
   */
  finish(warnings: readonly SourceWarning[] = [], deleted?: readonly string[]): void {
    let tail = ']';
    if (warnings.length) tail += `,"warnings":${JSON.stringify(warnings)}`;
    if (deleted) tail += `,"deleted":${JSON.stringify(deleted)}`;
    this.out.append(`${tail}}`);
    this.close();
  }

  /** Idempotent; the caller removes the file. */
  close(): void {
    if (!this.open) return;
    try {
      this.out.flush();
    } finally {
      this.open = false;
      closeSync(this.fd);
    }
  }
}
