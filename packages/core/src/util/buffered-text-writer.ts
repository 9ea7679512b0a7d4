import { writeSync } from 'node:fs';

const FLUSH_AT = 64 * 1024;

/**
 * Text appended to an open file through one reused 64 KiB buffer, written when
 * it fills: for files written entry by entry (the inner manifest, the file
 * list), so a tree of millions of files does not hold millions of objects in
 * memory. Text is encoded straight into the buffer: a string built up between
 * flushes lives long enough to be promoted to V8's old generation, which grew
 * the heap by ~25 MB of garbage while archiving the bench dataset. The caller
 * opens and closes the file.
 */
export class BufferedTextWriter {
  private readonly buffer = Buffer.allocUnsafe(FLUSH_AT);
  private filled = 0;

  constructor(private readonly fd: number) {}

  append(text: string): void {
    // UTF-8 takes at most 3 bytes per UTF-16 code unit.
    if (this.filled + text.length * 3 > this.buffer.length) this.flush();
    if (text.length * 3 > this.buffer.length) this.writeAll(Buffer.from(text, 'utf8'));
    else this.filled += this.buffer.write(text, this.filled, 'utf8');
  }

  flush(): void {
    this.writeAll(this.buffer.subarray(0, this.filled));
    this.filled = 0;
  }

  private writeAll(bytes: Buffer): void {
    let offset = 0;
    while (offset < bytes.length) offset += writeSync(this.fd, bytes, offset);
  }
}
