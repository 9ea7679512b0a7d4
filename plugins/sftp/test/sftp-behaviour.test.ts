import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import {
  copyFileSync,
  createReadStream,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { Readable } from 'node:stream';
import { type Destination, guardDestination, isDestinationError } from '@matric-backup/core';
import { randomPayload } from '@matric-backup/destination-testkit';
import { sftpPlugin } from '@matric-backup/plugin-sftp';
import {
  freePort,
  generateUnauthorizedKey,
  type SshServer,
  startSshServer,
} from '@matric-backup/test-servers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  expectSpoolFileUploads,
  freshFolder,
  rawList,
  removeScratch,
  testContext,
  withTinyFilesystem,
} from './helpers.js';

const MiB = 1024 * 1024;
let server: SshServer;
let keys: string;

beforeAll(async () => {
  server = await startSshServer({ password: true });
  keys = mkdtempSync(join(tmpdir(), 'mb-sftp-keys-'));
});
afterAll(async () => {
  await server?.dispose();
  rmSync(keys, { recursive: true, force: true });
  await removeScratch();
});

function sftp(overrides: Record<string, unknown> = {}, folder = freshFolder(server.root)): Destination {
  const config = sftpPlugin.configSchema.parse({
    host: server.host,
    port: server.port,
    username: server.username,
    path: folder,
    ssh_key: server.keyPath,
    known_hosts: server.knownHostsPath,
    ...overrides,
  });
  return guardDestination('sftp-test', sftpPlugin.create(config, testContext()) as Destination);
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

function knownHostsWith(line: string): string {
  const file = join(keys, `known_hosts-${Math.random().toString(36).slice(2)}`);
  writeFileSync(file, line ? `${line}\n` : '');
  return file;
}

function otherHostKey(): string {
  const path = join(keys, `other-${Math.random().toString(36).slice(2)}`);
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', path]);
  return readFileSync(`${path}.pub`, 'utf8').split(' ').slice(0, 2).join(' ');
}

describe('host keys', () => {
  it('accepts the server pinned by host_key_fingerprint', async () => {
    const destination = sftp({ known_hosts: undefined, host_key_fingerprint: server.fingerprint });
    const result = await destination.check();
    expect(result.details.join('\n')).toContain(`${server.fingerprint} matches host_key_fingerprint`);
    await destination.close();
  });

  it('accepts the server found in a hashed known_hosts (ssh-keygen -H)', async () => {
    const file = join(keys, 'hashed');
    copyFileSync(server.knownHostsPath, file);
    execFileSync('ssh-keygen', ['-H', '-f', file], { stdio: 'ignore' });
    expect(readFileSync(file, 'utf8')).toMatch(/^\|1\|/);
    const destination = sftp({ known_hosts: file });
    await put(destination, 'k', 'hashed ok');
    expect((await destination.stat('k'))?.size).toBe(9);
    await destination.close();
  });

  it('refuses a changed key, naming the presented fingerprint and how to pin it, and writes nothing', async () => {
    const folder = freshFolder(server.root);
    const destination = sftp(
      { known_hosts: knownHostsWith(`[127.0.0.1]:${server.port} ${otherHostKey()}`) },
      folder,
    );
    const error = await failure(put(destination, 'k', 'must not arrive'));
    expect(error.code).toBe('CONFIG');
    expect(error.retryable).toBe(false);
    expect(error.message).toContain('HOST KEY CHANGED');
    expect(error.message).toContain(`host_key_fingerprint: "${server.fingerprint}"`);
    expect(await rawList(folder)).toEqual([]);
    await destination.close();
  });

  it('refuses an unknown host with the fingerprint and the ssh-keyscan command', async () => {
    const file = knownHostsWith('');
    const error = await failure(sftp({ known_hosts: file }).check());
    expect(error.code).toBe('CONFIG');
    expect(error.message).toContain(server.fingerprint);
    expect(error.message).toContain(`ssh-keyscan -p ${server.port} 127.0.0.1 >> ${file}`);
  });

  it('refuses a wrong pinned fingerprint', async () => {
    const wrong = `SHA256:${'A'.repeat(43)}`;
    const error = await failure(sftp({ known_hosts: undefined, host_key_fingerprint: wrong }).check());
    expect(error.code).toBe('CONFIG');
    expect(error.message).toContain(`presented ssh-ed25519 ${server.fingerprint}, expected ${wrong}`);
  });

  it('accepts any key only with insecure_accept_any_host_key, and says so', async () => {
    const destination = sftp({ known_hosts: undefined, insecure_accept_any_host_key: true });
    expect((await destination.check()).details.join('\n')).toContain('NOT verified');
    await destination.close();
  });
});

describe('authentication and reachability', () => {
  it('logs in with a password', async () => {
    const destination = sftp({ ssh_key: undefined, password: server.password });
    await put(destination, 'by-password', 'x');
    expect(await destination.stat('by-password')).toBeDefined();
    await destination.close();
  });

  it('a wrong password or an unauthorized key is AUTH_FAILED, not retryable', async () => {
    for (const overrides of [
      { ssh_key: undefined, password: 'wrong-password' },
      { ssh_key: generateUnauthorizedKey(mkdtempSync(join(keys, 'k-'))) },
    ]) {
      const error = await failure(sftp(overrides).check());
      expect(error.code).toBe('AUTH_FAILED');
      expect(error.retryable).toBe(false);
      expect(error.message).not.toContain('wrong-password');
    }
  });

  it('a closed port is UNREACHABLE and retryable', async () => {
    const error = await failure(sftp({ port: await freePort(), connect_timeout: 5 }).check());
    expect(error.code).toBe('UNREACHABLE');
    expect(error.retryable).toBe(true);
    expect(error.message).toContain('ECONNREFUSED');
  });

  it('a folder the user may not write is PERMISSION_DENIED', async () => {
    const locked = join(server.root, 'root-owned');
    mkdirSync(locked, { mode: 0o755 });
    const destination = sftp({}, join(locked, 'inside'));
    const error = await failure(put(destination, 'k', 'x'));
    expect(error.code).toBe('PERMISSION_DENIED');
    expect(error.retryable).toBe(false);
    await destination.close();
  });
});

describe("uploads from core's spool file", () => {
  it('a plain file stream is read directly, a ranged one streamed; both stored exactly', async () => {
    const destination = sftp();
    await expectSpoolFileUploads(destination, join(keys, 'spool.bin'), randomBytes(3 * MiB + 123));
    await destination.close();
  });

  it('an aborted file upload rejects with ABORTED and leaves no temp file', async () => {
    const file = join(keys, 'large-spool.bin');
    writeFileSync(file, randomBytes(64 * MiB));
    const folder = freshFolder(server.root);
    const controller = new AbortController();
    const destination = sftp({}, folder);
    const error = await failure(
      destination.put('aborted.bin', createReadStream(file), {
        size: 64 * MiB,
        sha256: '',
        sourcePath: file,
        signal: controller.signal,
        onProgress: (sent) => {
          if (sent > 4 * MiB) controller.abort();
        },
      }),
    );
    expect(error.code).toBe('ABORTED');
    expect(await rawList(folder)).toEqual([]);
    await destination.close();
  });
});

describe('a full disk', () => {
  it('is NO_SPACE, not retryable, and leaves no temp file', async () => {
    const small = join(server.root, 'small-disk');
    await withTinyFilesystem(small, server.root, async () => {
      const payload = randomPayload(4 * MiB, 'too-big');
      const destination = sftp({}, small);
      const error = await failure(
        destination.put('too-big.bin', payload.stream(), { size: payload.size, sha256: payload.sha256 }),
      );
      expect(error).toMatchObject({ code: 'NO_SPACE', retryable: false });
      expect(await rawList(small)).toEqual([]);
      await destination.close();
    });
  });
});

describe('atomic uploads against a dying server', () => {
  it('a server killed during a large upload leaves no object under the key; the same destination recovers and reports the hidden temp for core to sweep', async () => {
    const folder = freshFolder(server.root);
    const destination = sftp({}, folder);
    const payload = randomPayload(256 * MiB, 'killed-upload');
    const key = 'shards/big.bin';
    let stopped: Promise<void> | undefined;
    const error = await failure(
      destination.put(key, payload.stream(), {
        size: payload.size,
        sha256: payload.sha256,
        onProgress: (bytes) => {
          if (bytes > 16 * MiB) stopped ??= server.stop();
        },
      }),
    );
    expect(stopped).toBeDefined();
    expect(error.code).toBe('UNREACHABLE');
    expect(error.retryable).toBe(true);
    await stopped;

    await failure(destination.stat(key));
    await server.restart();
    // Core's retry calls the same destination again: it reconnects on its own.
    expect(await destination.stat(key)).toBeUndefined();
    const listed: string[] = [];
    for await (const info of destination.list('')) listed.push(info.key);
    expect(listed).toEqual([]);
    const leftovers = await rawList(folder);
    expect(leftovers).not.toContain(key);
    expect(leftovers.map((path) => basename(path))).toEqual([
      expect.stringMatching(/^\.big\.bin\.tmp-[0-9a-f]{12}$/),
    ]);

    // listTemporary names it with the key it was written as (core sweeps its own once a day old); delete removes it.
    await put(destination, 'shards/next.bin', 'next');
    const temporaries = [];
    for await (const temporary of destination.listTemporary!()) temporaries.push(temporary);
    expect(temporaries).toEqual([
      { name: leftovers[0], key, size: expect.any(Number), modified: expect.any(Date) },
    ]);
    expect(temporaries[0]!.size).toBeGreaterThan(16 * MiB);
    await destination.delete(temporaries[0]!.name);
    expect(await rawList(folder)).toEqual(['shards/next.bin']);
    await destination.close();
  });
});

describe('check and config', () => {
  it('check reports free space from statvfs@openssh.com', async () => {
    const destination = sftp();
    const result = await destination.check();
    expect(result.freeBytes).toBeGreaterThan(0);
    expect(result.details.some((line) => line.includes('is writable'))).toBe(true);
    await destination.close();
  });

  it('the schema asks for a way to log in and refuses contradictory host key settings', () => {
    const base = { host: 'h', username: 'u', path: '/p' };
    const paths = (input: object) =>
      sftpPlugin.configSchema.safeParse(input).error?.issues.map((issue) => issue.path.join('.'));
    expect(paths(base)).toEqual(['ssh_key']);
    expect(
      paths({
        ...base,
        agent: true,
        insecure_accept_any_host_key: true,
        host_key_fingerprint: server.fingerprint,
      }),
    ).toEqual(['host_key_fingerprint']);
    expect(
      paths({ ...base, password: 'p', known_hosts: '/k', host_key_fingerprint: server.fingerprint }),
    ).toEqual(['host_key_fingerprint']);
    expect(paths({ ...base, password: 'p', prot: 1 })).toEqual(['']);
  });
});
