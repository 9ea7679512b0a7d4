import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEncryptStream } from '../src/crypto/index.js';
import { isCopyProblem } from '../src/restore/fallback.js';
import { restoreShard } from '../src/restore/restore.js';
import { shardKeys } from '../src/shard/naming.js';
import { verifyShard } from '../src/shard/verify.js';
import { createGpgHome } from './fixtures/gpg.js';
import { buildShard, type FixtureEntry, sha256, store } from './fixtures/read/build-shard.js';
import { type MemoryDestination, memoryDestination } from './fixtures/read/memory-destination.js';
import { snapshot } from './fixtures/restore/snapshot.js';

// Several age chunks (64 KiB each), so damage in the middle comes after some plaintext.
const random = randomBytes(300_000);
const tree: FixtureEntry[] = [
  { path: 'notes', type: 'directory' },
  { path: 'notes/a.txt', type: 'file', content: 'alpha\n' },
  { path: 'notes/random.bin', type: 'file', content: random },
];

let dir: string;
let identity: string;
let recipient: string;
let otherIdentity: string;
let gpgHome: string;
let emptyGpgHome: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'matric-restore-crypto-'));
  identity = join(dir, 'key.txt');
  execFileSync('age-keygen', ['-o', identity], { stdio: 'ignore' });
  recipient = execFileSync('age-keygen', ['-y', identity], { encoding: 'utf8' }).trim();
  otherIdentity = join(dir, 'other.txt');
  execFileSync('age-keygen', ['-o', otherIdentity], { stdio: 'ignore' });
  gpgHome = join(dir, 'gnupg');
  emptyGpgHome = join(dir, 'gnupg-empty');
  await mkdir(emptyGpgHome, { mode: 0o700 });
  createGpgHome(gpgHome, 'T <t@example.com>');
});
afterAll(async () => {
  // gpg-agent keeps running per homedir; it exits once its socket folder is gone.
  for (const home of [gpgHome, emptyGpgHome]) {
    try {
      execFileSync('gpgconf', ['--homedir', home, '--kill', 'gpg-agent'], { stdio: 'ignore' });
    } catch {
      // No agent was started for it.
    }
  }
  await rm(dir, { recursive: true, force: true });
});

/** A shard as the run pipeline stores an encrypted one: tar.zst encrypted, named .age/.gpg, sidecar to match. */
async function encryptedShard(method: 'age' | 'gpg'): Promise<MemoryDestination> {
  const dest = memoryDestination();
  const { manifest, archive } = await buildShard(dest, { entries: tree, sidecar: false });
  dest.objects.clear();
  const encrypt = await createEncryptStream(
    method === 'age'
      ? { method, recipients: [recipient] }
      : { method, recipients: ['t@example.com'], gpg_homedir: gpgHome },
  );
  const stored = await buffer(Readable.from([archive]).pipe(encrypt));
  const keys = shardKeys(manifest.id, 'zstd', method);
  manifest.encryption = { method, recipient_count: 1 };
  manifest.object = { name: keys.archive, size: stored.length };
  manifest.checksum = `sha256:${sha256(stored)}`;
  await store(dest, keys.archive, stored);
  await store(dest, keys.sidecar, Buffer.from(JSON.stringify(manifest)));
  return dest;
}

async function sidecarOf(dest: MemoryDestination) {
  const [key] = [...dest.objects.keys()].filter((k) => k.endsWith('.manifest.json'));
  return JSON.parse(dest.objects.get(key!)!.bytes.toString('utf8'));
}

describe('age-encrypted shards', () => {
  it('verify decrypts with the identity and checks every file; restore brings them back', async () => {
    const dest = await encryptedShard('age');
    const manifest = await sidecarOf(dest);
    expect(manifest.object.name).toMatch(/\.tar\.zst\.age$/);

    const verified = await verifyShard(dest, manifest, { identity });
    expect(verified).toMatchObject({ ok: true, problems: [], warnings: [], filesChecked: 2 });

    const target = join(dir, 'age-restored');
    const restored = await restoreShard({ from: dest, manifest, to: target, identity });
    expect(restored).toMatchObject({ files: 2, bytes: random.length + 6 });
    expect(await readFile(join(target, 'notes/random.bin'))).toEqual(random);
  });

  it('verify without an identity checks the stored object only and says so', async () => {
    const dest = await encryptedShard('age');
    const verified = await verifyShard(dest, await sidecarOf(dest));
    expect(verified).toMatchObject({ ok: true, filesChecked: 0 });
    expect(verified.warnings[0]).toMatch(/^contents not checked: .* no identity was given/);
  });

  it('a wrong identity: DECRYPT_FAILED, the target untouched, and not a reason to try another copy', async () => {
    const dest = await encryptedShard('age');
    const manifest = await sidecarOf(dest);
    const target = join(dir, 'wrong-key');
    await mkdir(target);
    await writeFile(join(target, 'mine.txt'), 'mine');
    const before = await snapshot(target);

    const error = await restoreShard({
      from: dest,
      manifest,
      to: target,
      identity: otherIdentity,
      conflict: 'overwrite',
    }).catch((e) => e);
    expect(error).toMatchObject({
      code: 'DECRYPT_FAILED',
      message: "age decryption failed: no identity matched any of the file's recipients",
    });
    expect(isCopyProblem(error)).toBe(false);
    expect(await snapshot(target)).toEqual(before);
    expect((await readdir(dir)).filter((name) => name.includes('.restore-'))).toEqual([]);

    await expect(verifyShard(dest, manifest, { identity: otherIdentity })).rejects.toMatchObject({
      code: 'DECRYPT_FAILED',
    });
  });

  it('damaged ciphertext is a damaged copy (checksum mismatch), so another copy is tried', async () => {
    const dest = await encryptedShard('age');
    const manifest = await sidecarOf(dest);
    dest.objects.get(manifest.object.name)!.bytes[200_000]! ^= 0x01;

    const error = await restoreShard({ from: dest, manifest, to: join(dir, 'damaged'), identity }).catch(
      (e) => e,
    );
    expect(error.code).toBe('VERIFY_FAILED');
    expect(error.message).toMatch(/stored object checksum .* does not match/);
    expect(error.message).toMatch(/age decryption failed/);
    expect(isCopyProblem(error)).toBe(true);

    const verified = await verifyShard(dest, manifest, { identity });
    expect(verified.ok).toBe(false);
    expect(verified.problems[0]).toMatchObject({ code: 'OBJECT_CHECKSUM' });
  });
});

describe('gpg-encrypted shards', () => {
  it('verify and restore decrypt with the keyring of gpgHomedir', async () => {
    const dest = await encryptedShard('gpg');
    const manifest = await sidecarOf(dest);
    expect(manifest.object.name).toMatch(/\.tar\.zst\.gpg$/);
    expect(await verifyShard(dest, manifest, { gpgHomedir: gpgHome })).toMatchObject({
      ok: true,
      filesChecked: 2,
      warnings: [],
    });
    const target = join(dir, 'gpg-restored');
    await restoreShard({ from: dest, manifest, to: target, gpgHomedir: gpgHome });
    expect(await readFile(join(target, 'notes/random.bin'))).toEqual(random);
  });

  it('a keyring without the secret key: verify checks the stored object and warns; restore fails clearly', async () => {
    const dest = await encryptedShard('gpg');
    const manifest = await sidecarOf(dest);
    const verified = await verifyShard(dest, manifest, { gpgHomedir: emptyGpgHome });
    expect(verified).toMatchObject({ ok: true, filesChecked: 0 });
    expect(verified.warnings[0]).toMatch(/gpg keyring holds no secret key/);

    const target = join(dir, 'gpg-no-key');
    const error = await restoreShard({ from: dest, manifest, to: target, gpgHomedir: emptyGpgHome }).catch(
      (e) => e,
    );
    expect(error.code).toBe('DECRYPT_FAILED');
    expect(error.message).toMatch(/No secret key/);
    expect((await readdir(dir)).filter((name) => name.startsWith('gpg-no-key'))).toEqual([]);
  });
});
