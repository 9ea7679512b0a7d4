import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { Readable } from 'node:stream';
import { type Destination, guardDestination, isDestinationError } from '@matric-backup/core';
import { randomPayload } from '@matric-backup/destination-testkit';
import { rsyncPlugin } from '@matric-backup/plugin-sftp';
import {
  freePort,
  generateUnauthorizedKey,
  type RsyncServer,
  type SshServer,
  startRsyncServer,
  startSshServer,
} from '@matric-backup/test-servers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  expectSpoolFileUploads,
  freshFolder,
  rawList,
  read,
  removeScratch,
  testContext,
  withTinyFilesystem,
} from './helpers.js';

const MiB = 1024 * 1024;
let sshd: SshServer;
let rsyncd: RsyncServer;
let scratch: string;

beforeAll(async () => {
  [sshd, rsyncd] = await Promise.all([startSshServer(), startRsyncServer()]);
  scratch = mkdtempSync(join(tmpdir(), 'mb-rsync-test-'));
});
afterAll(async () => {
  await Promise.all([sshd?.dispose(), rsyncd?.dispose()]);
  rmSync(scratch, { recursive: true, force: true });
  await removeScratch();
});

function create(block: Record<string, unknown>): Destination {
  return guardDestination(
    'rsync-test',
    rsyncPlugin.create(rsyncPlugin.configSchema.parse(block), testContext()) as Destination,
  );
}

function overSsh(overrides: Record<string, unknown> = {}, folder = freshFolder(sshd.root)): Destination {
  return create({
    target: `${sshd.username}@${sshd.host}:${folder}`,
    port: sshd.port,
    ssh_key: sshd.keyPath,
    known_hosts: sshd.knownHostsPath,
    ...overrides,
  });
}

function toDaemon(overrides: Record<string, unknown> = {}, folder = freshFolder(rsyncd.root)): Destination {
  return create({ target: `${rsyncd.url}/${basename(folder)}`, password: rsyncd.password, ...overrides });
}

async function failure(promise: Promise<unknown>) {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (!isDestinationError(error)) throw new Error(`expected a DestinationError, got ${String(error)}`);
  return error;
}

const put = (destination: Destination, key: string, text: string) =>
  destination.put(key, Readable.from([Buffer.from(text)]), {
    size: Buffer.byteLength(text),
    sha256: createHash('sha256').update(text).digest('hex'),
  });

describe('rsync over ssh: host keys and login', () => {
  it('accepts the server pinned by host_key_fingerprint', async () => {
    const destination = overSsh({ known_hosts: undefined, host_key_fingerprint: sshd.fingerprint });
    await put(destination, 'pinned.txt', 'pinned');
    expect((await read(destination, 'pinned.txt')).toString()).toBe('pinned');
    expect((await destination.check()).details.join('\n')).toContain(
      `${sshd.fingerprint} matches host_key_fingerprint`,
    );
    await destination.close();
  });

  it('refuses a changed host key with the presented fingerprint, before rsync runs', async () => {
    const path = join(scratch, 'other');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', path]);
    const knownHosts = join(scratch, 'changed_known_hosts');
    const otherKey = readFileSync(`${path}.pub`, 'utf8').split(' ').slice(0, 2).join(' ');
    writeFileSync(knownHosts, `[127.0.0.1]:${sshd.port} ${otherKey}\n`);
    const folder = freshFolder(sshd.root);
    const error = await failure(put(overSsh({ known_hosts: knownHosts }, folder), 'k', 'x'));
    expect(error).toMatchObject({ code: 'CONFIG', retryable: false });
    expect(error.message).toContain('HOST KEY CHANGED');
    expect(error.message).toContain(`host_key_fingerprint: "${sshd.fingerprint}"`);
    expect(await rawList(folder)).toEqual([]);
  });

  it('an unauthorized key is AUTH_FAILED; a closed port is UNREACHABLE and retryable', async () => {
    const wrongKey = generateUnauthorizedKey(mkdtempSync(join(scratch, 'k-')));
    const denied = await failure(overSsh({ ssh_key: wrongKey }).check());
    expect(denied).toMatchObject({ code: 'AUTH_FAILED', retryable: false });
    expect(denied.message).toContain('Permission denied');

    const closed = await failure(overSsh({ port: await freePort(), connect_timeout: 5 }).check());
    expect(closed).toMatchObject({ code: 'UNREACHABLE', retryable: true });
  });
});

describe('rsync daemon: login and the local program', () => {
  it('a wrong password is AUTH_FAILED and never shows in the message', async () => {
    const error = await failure(toDaemon({ password: 'not-the-password' }).check());
    expect(error).toMatchObject({ code: 'AUTH_FAILED', retryable: false });
    expect(error.message).toContain('auth failed');
    expect(error.message).not.toContain('not-the-password');
  });

  it('a closed port is UNREACHABLE and retryable', async () => {
    const error = await failure(
      create({
        target: `rsync://${rsyncd.username}@127.0.0.1:${await freePort()}/backup`,
        password: 'x',
      }).check(),
    );
    expect(error).toMatchObject({ code: 'UNREACHABLE', retryable: true });
  });

  it('a missing rsync program says what to install', async () => {
    const error = await failure(toDaemon({ rsync_binary: '/nonexistent/rsync' }).check());
    expect(error).toMatchObject({ code: 'CONFIG', retryable: false });
    expect(error.message).toContain('apt-get install rsync');
  });
});

describe('rsync uploads', () => {
  it('sends a plain file stream as is, honours a stream that starts mid-file, and reports progress', async () => {
    const destination = toDaemon();
    const bytes = Buffer.from(Array.from({ length: 300_000 }, (_, i) => i % 251));
    await expectSpoolFileUploads(destination, join(scratch, 'spool.bin'), bytes);
    await destination.close();
  });

  it('a stream shorter than its declared size is refused before anything is sent', async () => {
    const folder = freshFolder(rsyncd.root);
    const error = await failure(
      toDaemon({}, folder).put('short.bin', Readable.from([Buffer.from('abc')]), {
        size: 4,
        sha256: createHash('sha256').update('abcd').digest('hex'),
      }),
    );
    expect(error).toMatchObject({ code: 'INTEGRITY', retryable: false });
    expect(await rawList(folder)).toEqual([]);
  });

  it('a full disk is NO_SPACE, not retryable, over ssh and to the daemon, and leaves no temp file', async () => {
    const payload = randomPayload(4 * MiB, 'too-big');
    for (const [server, make] of [
      [sshd, (folder: string) => overSsh({}, folder)],
      [rsyncd, (folder: string) => toDaemon({}, folder)],
    ] as const) {
      const small = join(server.root, 'small-disk');
      await withTinyFilesystem(small, server.root, async () => {
        const destination = make(small);
        const error = await failure(
          destination.put('too-big.bin', payload.stream(), { size: payload.size, sha256: payload.sha256 }),
        );
        expect(error).toMatchObject({ code: 'NO_SPACE', retryable: false });
        expect(await rawList(small)).toEqual([]);
        await destination.close();
      });
    }
  });

  for (const [transport, server, make] of [
    ['ssh', () => sshd, (folder: string) => overSsh({}, folder)],
    ['daemon', () => rsyncd, (folder: string) => toDaemon({}, folder)],
  ] as const) {
    it(`${transport}: a server killed during a large upload leaves no object under the key; the destination recovers and reports the receiver's temp for core to sweep`, async () => {
      const folder = freshFolder(server().root);
      const destination = make(folder);
      await put(destination, 'shards/earlier.bin', 'earlier');
      const payload = randomPayload(256 * MiB, `killed-${transport}`);
      const key = 'shards/big.bin';
      const uploading = destination.put(key, payload.stream(), {
        size: payload.size,
        sha256: payload.sha256,
      });
      // rsync's progress output is too coarse to catch a fast loopback transfer: watch its temp file grow instead.
      await receiverTempGrows(join(folder, 'shards'), 16 * MiB);
      await server().stop();
      const error = await failure(uploading);
      expect(error).toMatchObject({ code: 'UNREACHABLE', retryable: true });
      await server().restart();

      expect(await destination.stat(key)).toBeUndefined();
      const listed: string[] = [];
      for await (const info of destination.list('')) listed.push(info.key);
      expect(listed).toEqual(['shards/earlier.bin']);
      // The receiver dies with the server: usually before it can remove its hidden `.big.bin.XXXXXX`,
      // but a receiver that gets to handle the signal removes it (seen on a loaded machine).
      const leftovers = (await rawList(folder)).filter((path) => path !== 'shards/earlier.bin');
      expect(leftovers.length).toBeLessThanOrEqual(1);
      for (const path of leftovers) expect(basename(path)).toMatch(/^\.big\.bin\.[A-Za-z0-9]{6}$/);

      // listTemporary names what is left with the key it was received as (core sweeps its own once a day old).
      const later = make(folder);
      const temporaries = [];
      for await (const temporary of later.listTemporary!()) temporaries.push(temporary);
      expect(temporaries).toEqual(
        leftovers.map((name) => ({ name, key, size: expect.any(Number), modified: expect.any(Date) })),
      );
      for (const temporary of temporaries) await later.delete(temporary.name);
      expect(await rawList(folder)).toEqual(['shards/earlier.bin']);
      await Promise.all([destination.close(), later.close()]);
    });
  }
});

async function receiverTempGrows(folder: string, bytes: number): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const entries = await readdir(folder).catch(() => [] as string[]);
    for (const name of entries.filter((entry) => entry.startsWith('.big.bin.'))) {
      const size = await stat(join(folder, name)).then(
        (info) => info.size,
        () => 0,
      );
      if (size > bytes) return;
    }
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  throw new Error(`no temporary file in ${folder} grew beyond ${bytes} bytes`);
}

describe('rsync config', () => {
  it('validates the target and keeps ssh-only and daemon-only keys apart', () => {
    const paths = (input: object) =>
      rsyncPlugin.configSchema
        .safeParse(input)
        .error?.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    expect(paths({ target: '/local/path' })?.[0]).toMatch(/^target: expected user@host:\/path/);
    expect(paths({ target: 'rsync://h/m/p', ssh_key: '/k' })?.[0]).toMatch(/^ssh_key: only for ssh targets/);
    expect(paths({ target: 'u@h:/p', password: 'x' })?.[0]).toMatch(
      /^password: password is for rsync:\/\/ daemon targets/,
    );
    expect(paths({ target: 'rsync://h:873/m', port: 874 })?.[0]).toMatch(
      /^port: the target URL already says port 873/,
    );
    expect(
      paths({ target: 'backup@nas.local:/backups/matric', ssh_key: '/root/.ssh/backup_key' }),
    ).toBeUndefined();
  });
});
