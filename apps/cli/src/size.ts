import { BYTE_SIZE_HINT, MatricError, parseByteSize } from '@matric-backup/core';

/** A size option (`--max-bytes 50GiB`) in bytes, by the grammar config keys use too. */
export function parseSizeOption(text: string, option: string): number {
  const bytes = parseByteSize(text);
  if (bytes === undefined) {
    throw new MatricError('USAGE', `${option} ${JSON.stringify(text)} is not a size`, {
      hint: BYTE_SIZE_HINT,
    });
  }
  return bytes;
}
