// @ts-check
// File names are bytes; JavaScript strings are UTF-16. A name that is valid
// UTF-8 is kept as its usual string. Any other byte sequence keeps each byte
// that is not part of a valid UTF-8 character as a lone surrogate U+DC80+byte
// (Python's "surrogateescape"): valid UTF-8 never decodes to a lone surrogate,
// so every byte string has exactly one such string and converts back exactly.
// Archive paths, manifest paths (JSON keeps lone surrogates as \udcXX escapes)
// and filters all work on these strings; only a file system call or a tar
// header turns them back into bytes. Plain JavaScript: the restore's writer
// thread uses it as Node finds it.
import { isUtf8 } from 'node:buffer';

/** Lone surrogates that stand for one raw byte each. */
const RAW_BYTE = /[\uDC80-\uDCFF]/;

/**
 * The string of a file name's bytes.
 * @param {Buffer} bytes
 * @returns {string}
 */
export function nameFromBytes(bytes) {
  if (isUtf8(bytes)) return bytes.toString('utf8');
  let name = '';
  let start = 0;
  for (let at = 0; at < bytes.length; ) {
    const length = utf8Length(bytes, at);
    if (length > 0) {
      at += length;
      continue;
    }
    name +=
      bytes.toString('utf8', start, at) + String.fromCharCode(0xdc00 + /** @type {number} */ (bytes[at]));
    at += 1;
    start = at;
  }
  return name + bytes.toString('utf8', start);
}

/**
 * The bytes of a name made by nameFromBytes (or any ordinary string).
 * @param {string} name
 * @returns {Buffer}
 */
export function bytesOfName(name) {
  if (!RAW_BYTE.test(name)) return Buffer.from(name, 'utf8');
  /** @type {Buffer[]} */
  const parts = [];
  let text = '';
  for (const char of name) {
    const code = /** @type {number} */ (char.codePointAt(0));
    if (code >= 0xdc80 && code <= 0xdcff) {
      parts.push(Buffer.from(text, 'utf8'), Buffer.of(code - 0xdc00));
      text = '';
    } else text += char;
  }
  parts.push(Buffer.from(text, 'utf8'));
  return Buffer.concat(parts);
}

/**
 * Whether a name holds bytes that are not UTF-8.
 * @param {string} name
 */
export function hasRawBytes(name) {
  return RAW_BYTE.test(name);
}

/**
 * What a file system call needs: the string itself, or its bytes when it has raw ones.
 * @param {string} path
 * @returns {string | Buffer}
 */
export function fsPath(path) {
  return RAW_BYTE.test(path) ? bytesOfName(path) : path;
}

/**
 * A name for people to read: each raw byte as `\xNN`.
 * @param {string} name
 */
export function displayName(name) {
  if (!RAW_BYTE.test(name)) return name;
  return name.replace(/[\uDC80-\uDCFF]/g, (char) => `\\x${(char.charCodeAt(0) - 0xdc00).toString(16)}`);
}

/**
 * Length of the valid UTF-8 character at `at`, or 0 when it is not one.
 * @param {Buffer} bytes
 * @param {number} at
 */
function utf8Length(bytes, at) {
  const lead = /** @type {number} */ (bytes[at]);
  if (lead < 0x80) return 1;
  let length;
  let min;
  if (lead >= 0xc2 && lead <= 0xdf) [length, min] = [2, 0x80];
  else if (lead >= 0xe0 && lead <= 0xef) [length, min] = [3, 0x800];
  else if (lead >= 0xf0 && lead <= 0xf4) [length, min] = [4, 0x10000];
  else return 0;
  if (at + length > bytes.length) return 0;
  let code = lead & (0xff >> (length + 1));
  for (let i = 1; i < length; i++) {
    const next = /** @type {number} */ (bytes[at + i]);
    if ((next & 0xc0) !== 0x80) return 0;
    code = (code << 6) | (next & 0x3f);
  }
  // Overlong forms, UTF-16 surrogates and code points past U+10FFFF are not UTF-8.
  if (code < min || (code >= 0xd800 && code <= 0xdfff) || code > 0x10ffff) return 0;
  return length;
}
