// Deterministic mixed benchmark data: compressible text and logs, incompressible
// binaries, a half-zero disk image and many small files, generated once and cached.
import { createCipheriv, createHash } from 'node:crypto';
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';

// Bump when the generator changes, so cached datasets are rebuilt.
const GENERATOR_VERSION = 1;
const MiB = 1024 * 1024;

/** mulberry32: a tiny seeded PRNG for choices (sizes, words); bytes come from AES-CTR. */
function prng(seed) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function keystream(seed) {
  const digest = createHash('sha256').update(`bench:${seed}`).digest();
  return createCipheriv('aes-256-ctr', digest, digest.subarray(0, 16));
}

const logUniform = (random, min, max) =>
  Math.round(Math.exp(Math.log(min) + random() * (Math.log(max) - Math.log(min))));

function vocabulary(random) {
  const letters = 'etaoinshrdlcumwfgypbvkjxqz';
  return Array.from({ length: 6000 }, () => {
    const length = 2 + Math.floor(random() * random() * 11);
    let word = '';
    // Skewed towards frequent letters, like prose.
    for (let i = 0; i < length; i++) word += letters[Math.floor(random() * random() * letters.length)];
    return word;
  });
}

/** Writes `size` bytes produced by `chunk(n)` to `path`, 1 MiB at a time. */
function writeGenerated(path, size, chunk) {
  const fd = openSync(path, 'w', 0o644);
  try {
    for (let left = size; left > 0; ) {
      const piece = chunk(Math.min(MiB, left));
      writeSync(fd, piece);
      left -= piece.length;
    }
  } finally {
    closeSync(fd);
  }
}

function textChunks(random, words) {
  return (n) => {
    const parts = [];
    let length = 0;
    while (length < n) {
      // Zipf-like: a few words very often, most rarely.
      const word = words[Math.floor(words.length * random() ** 3)];
      const sep = random() < 0.08 ? '.\n' : ' ';
      parts.push(word, sep);
      length += word.length + sep.length;
    }
    return Buffer.from(parts.join('')).subarray(0, n);
  };
}

function logChunks(random, seed) {
  const components = ['api', 'worker', 'scheduler', 'db', 'cache', 'auth', 'mailer'];
  const paths = ['/api/notes', '/api/search', '/api/users/me', '/health', '/api/attachments', '/api/sync'];
  const ids = keystream(`${seed}:ids`);
  let clock = Date.UTC(2024, 0, 1);
  return (n) => {
    const lines = [];
    let length = 0;
    while (length < n) {
      clock += Math.floor(random() * 40);
      const status = random() < 0.93 ? 200 : random() < 0.7 ? 404 : 500;
      const id = ids.update(Buffer.alloc(8)).toString('hex');
      const line = `${new Date(clock).toISOString()} ${status === 500 ? 'ERROR' : 'INFO'} [${components[Math.floor(random() * components.length)]}-${Math.floor(random() * 8)}] request_id=${id} method=GET path=${paths[Math.floor(random() * paths.length)]} status=${status} duration_ms=${Math.floor(random() * random() * 900)}\n`;
      lines.push(line);
      length += line.length;
    }
    return Buffer.from(lines.join('')).subarray(0, n);
  };
}

const randomChunks = (seed) => {
  const cipher = keystream(seed);
  return (n) => cipher.update(Buffer.alloc(n));
};

/** Half zero blocks, half random: a sparse VM image or database file. */
function diskImageChunks(random, seed) {
  const cipher = keystream(seed);
  return (n) => (random() < 0.5 ? Buffer.alloc(n) : cipher.update(Buffer.alloc(n)));
}

/** Files of log-uniform sizes in [min, max] until `total` bytes. */
function fillFolder(folder, total, min, max, random, make) {
  mkdirSync(folder, { recursive: true });
  total = Math.round(total);
  let written = 0;
  for (let i = 0; written < total; i++) {
    const size = Math.min(logUniform(random, min, max), total - written);
    make(join(folder, `file-${String(i).padStart(4, '0')}`), size, i);
    written += size;
  }
  return written;
}

function generate(dir, scale) {
  const random = prng(20240101);
  const words = vocabulary(random);
  let bytes = 0;
  let files = 0;
  const add = (path, size, chunk) => {
    writeGenerated(path, size, chunk);
    bytes += size;
    files++;
  };

  mkdirSync(join(dir, 'large'), { recursive: true });
  add(join(dir, 'large/app.log'), Math.round(160 * MiB * scale), logChunks(random, 'log'));
  add(join(dir, 'large/disk.img'), Math.round(160 * MiB * scale), diskImageChunks(random, 'img'));

  fillFolder(join(dir, 'text'), 288 * MiB * scale, 16 * 1024, 4 * MiB, random, (path, size) =>
    add(`${path}.txt`, size, textChunks(random, words)),
  );
  fillFolder(join(dir, 'binary'), 288 * MiB * scale, 256 * 1024, 32 * MiB, random, (path, size, i) =>
    add(`${path}.bin`, size, randomChunks(`bin-${i}`)),
  );

  // Many small files in 100-file folders: half text, half random.
  const small = Math.round(30_000 * scale);
  const smallRandom = keystream('small');
  const smallText = textChunks(random, words);
  for (let i = 0; i < small; i++) {
    const folder = join(dir, 'small', `d${String(Math.floor(i / 100)).padStart(3, '0')}`);
    if (i % 100 === 0) mkdirSync(folder, { recursive: true });
    const size = logUniform(random, 64, 4096);
    const body = i % 2 ? smallText(size) : smallRandom.update(Buffer.alloc(size));
    writeFileSync(join(folder, `f${i}.${i % 2 ? 'md' : 'dat'}`), body);
    bytes += size;
    files++;
  }
  return { bytes, files };
}

/**
 * The dataset at `dir` (scale 1 = ~1 GiB), generated unless a complete one with
 * this generator version is cached; its description sits beside it, not inside.
 */
export function ensureDataset(dir, scale) {
  const marker = `${dir}.json`;
  try {
    const cached = JSON.parse(readFileSync(marker, 'utf8'));
    if (cached.version === GENERATOR_VERSION && cached.scale === scale) return cached;
  } catch {
    // Not generated yet, or interrupted: start over.
  }
  rmSync(dir, { recursive: true, force: true });
  rmSync(marker, { force: true });
  const started = performance.now();
  process.stderr.write(`bench: generating ${dir} (scale ${scale}) ...`);
  const { bytes, files } = generate(dir, scale);
  process.stderr.write(
    ` ${(bytes / MiB).toFixed(0)} MiB, ${files} files in ${((performance.now() - started) / 1000).toFixed(1)} s\n`,
  );
  const description = { version: GENERATOR_VERSION, scale, bytes, files };
  writeFileSync(marker, `${JSON.stringify(description)}\n`);
  return description;
}
