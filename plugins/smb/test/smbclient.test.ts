import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chownSync,
  createReadStream,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import {
  type Destination,
  type DestinationError,
  guardDestination,
  isDestinationError,
} from '@matric-backup/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authFileFor } from '../src/auth-file.js';
import plugin from '../src/index.js';
import { configFor, freePort, type SmbServer, startSmbServer, testContext } from './helpers.js';

let server: SmbServer;
let scratch: string;
let folders = 0;

beforeAll(async () => {
  server = await startSmbServer();
  scratch = mkdtempSync(join(tmpdir(), 'mb-smb-test-'));
});
afterAll(async () => {
  await server?.stop();
  rmSync(scratch, { recursive: true, force: true });
});

/** A destination through core's guard, in a new folder of the share, with its own scratch folder. */
function open(extra: Parameters<typeof configFor>[1] = {}) {
  const tmpDir = mkdtempSync(join(scratch, 'ctx-'));
  const context = testContext(tmpDir);
  const destination = guardDestination(
    'smb-test',
    plugin.create(configFor(server, { path: `t${++folders}`, ...extra }), context) as Destination,
  );
  return { destination, context, tmpDir };
}

async function failure(promise: Promise<unknown>): Promise<DestinationError> {
  try {
    await promise;
  } catch (error) {
    if (isDestinationError(error)) return error;
    throw error;
  }
  throw new Error('expected a DestinationError');
}

const put = (destination: Destination, key: string, text: string) =>
  destination.put(key, Readable.from([Buffer.from(text)]), {
    size: Buffer.byteLength(text),
    sha256: createHash('sha256').update(text).digest('hex'),
  });

async function read(destination: Destination, key: string): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of await destination.get(key)) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString();
}

describe('logon and reachability', () => {
  it('a wrong password is AUTH_FAILED, not retryable, and the message holds no password', async () => {
    const { destination } = open({ password: 'not the password' });
    const error = await failure(destination.check());
    expect(error.code).toBe('AUTH_FAILED');
    expect(error.retryable).toBe(false);
    expect(error.message).toContain(server.username);
    expect(`${error.message} ${error.hint}`).not.toContain('not the password');
    await destination.close();
  });

  it('a share the server does not have is a CONFIG error naming it', async () => {
    const { destination } = open({ share: `//${server.host}/no-such-share` });
    const error = await failure(put(destination, 'a', 'x'));
    expect(error.code).toBe('CONFIG');
    expect(error.message).toContain('no share named "no-such-share"');
    await destination.close();
  });

  it('nothing listening on the port is UNREACHABLE and retryable', async () => {
    const { destination } = open({ port: await freePort() });
    const error = await failure(destination.stat('a'));
    expect(error.code).toBe('UNREACHABLE');
    expect(error.retryable).toBe(true);
    await destination.close();
  });

  it('a missing smbclient says what to install', async () => {
    const { destination } = open({ smbclient_path: '/nonexistent/smbclient' });
    const error = await failure(destination.check());
    expect(error.code).toBe('CONFIG');
    expect(error.hint).toContain('apt-get install smbclient');
    await destination.close();
  });

  it('logs on with a credentials_file and warns when others can read it', async () => {
    const file = join(scratch, 'smb.creds');
    writeFileSync(file, `username=${server.username}\npassword=${server.password}\ndomain=WORKGROUP\n`, {
      mode: 0o644,
    });
    const { destination, context } = open({
      username: undefined,
      password: undefined,
      credentials_file: file,
    });
    const result = await destination.check();
    expect(result.details.join('\n')).toContain(`the user in ${file}`);
    expect(result.freeBytes).toBeGreaterThan(0);
    expect(context.warnings).toEqual([`credentials_file ${file} is readable by other users; chmod 600 it`]);
    await destination.close();
  });
});

describe('credentials stay off the command line', () => {
  it('the auth file is 0600 with the smbclient format, and release removes it', async () => {
    const dir = mkdtempSync(join(scratch, 'auth-'));
    const file = await authFileFor({ kind: 'inline', username: 'u', password: 'p w"=#', domain: 'D' }, dir);
    expect(statSync(file.path).mode & 0o777).toBe(0o600);
    expect(readFileSync(file.path, 'utf8')).toBe('username=u\npassword=p w"=#\ndomain=D\n');
    await file.release();
    expect(readdirSync(dir)).toEqual([]);
  });

  it('a logged-on session has neither the password in its argv or environment nor an auth file left', async () => {
    const { destination, tmpDir } = open();
    await put(destination, 'probe', 'x');
    // The idle session is still logged on; find its smbclient by the scratch folder in its arguments.
    const pids = readdirSync('/proc').filter((entry) => {
      try {
        return /^\d+$/.test(entry) && readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(tmpDir);
      } catch {
        return false;
      }
    });
    expect(pids.length).toBeGreaterThan(0);
    for (const pid of pids) {
      expect(readFileSync(`/proc/${pid}/cmdline`, 'utf8')).not.toContain(server.password);
      expect(readFileSync(`/proc/${pid}/environ`, 'utf8')).not.toContain(server.password);
    }
    const leftovers = execFileSync('find', [tmpDir, '-type', 'f'], { encoding: 'utf8' }).trim();
    expect(leftovers).toBe('');
    await destination.close();
    expect(readdirSync(tmpDir)).toEqual([]);
  });
});

describe('names', () => {
  it('names with spaces, quotes, unicode and shell characters round-trip and list verbatim', async () => {
    const { destination } = open();
    const keys = [
      "it's a file with spaces.tar.zst",
      'ünïcødé folder/日本語 😀 ümlaut.dat',
      'a%b&c$d!e@f(g)h[i]j{k}l+m,n~o`p^q/x',
      ' leading space/file',
    ];
    for (const key of keys) await put(destination, key, `content of ${key}`);
    for (const key of keys) expect(await read(destination, key)).toBe(`content of ${key}`);
    const listed: string[] = [];
    for await (const info of destination.list()) listed.push(info.key);
    expect(listed.sort()).toEqual([...keys].sort());
    await destination.close();
  });

  it('names smbclient or SMB cannot carry are refused with INVALID_KEY and nothing is stored', async () => {
    const { destination } = open();
    for (const key of ['say "hi"', 'a;b', 'a:b', 'what?', 'trailing ', 'dot.', 'new\nline']) {
      const error = await failure(put(destination, key, 'x'));
      expect(error.code).toBe('INVALID_KEY');
    }
    const listed: string[] = [];
    for await (const info of destination.list()) listed.push(info.key);
    expect(listed).toEqual([]);
    await destination.close();
  });
});

describe('operations', () => {
  it('hides temporary files of killed uploads from list and reports them with their key, old shortened names too', async () => {
    const { destination } = open({ path: 'leftovers' });
    await put(destination, 'sub/kept.bin', 'kept');
    const folder = join(server.root, 'leftovers');
    const current = 'sub/.backup_20260101_000000_abcdefgh.tar.zst.tmp-0123456789ab';
    // Earlier versions shortened the name to 100 characters.
    const shortened = `.${'x'.repeat(100)}.tmp-abcdef012345`;
    for (const name of [current, shortened]) {
      writeFileSync(join(folder, name), 'partial');
      chownSync(join(folder, name), statSync(folder).uid, statSync(folder).gid);
    }
    const listed = [];
    for await (const info of destination.list()) listed.push(info.key);
    expect(listed).toEqual(['sub/kept.bin']);
    const temporaries = [];
    for await (const temporary of destination.listTemporary!()) temporaries.push(temporary);
    expect(temporaries.sort((a, b) => a.name.localeCompare(b.name))).toEqual([
      { name: shortened, key: 'x'.repeat(100), size: 7, modified: expect.any(Date) },
      {
        name: current,
        key: 'sub/backup_20260101_000000_abcdefgh.tar.zst',
        size: 7,
        modified: expect.any(Date),
      },
    ]);
    for (const { name } of temporaries) await destination.delete(name);
    expect(readdirSync(folder, { recursive: true }).sort()).toEqual(['sub', 'sub/kept.bin']);
    await destination.close();
  });

  it('stores the object under path inside the share, created when missing', async () => {
    const { destination } = open({ path: 'deep/er/backups' });
    await put(destination, 'backup_20260101_000000.manifest.json', '{}');
    expect(
      readFileSync(join(server.root, 'deep/er/backups/backup_20260101_000000.manifest.json'), 'utf8'),
    ).toBe('{}');
    await destination.close();
  });

  it('a whole local file (core spool) is read by smbclient itself; a part of one is streamed', async () => {
    const { destination } = open();
    const file = join(scratch, 'spool.bin');
    const bytes = Buffer.from(Array.from({ length: 3 * 1024 * 1024 }, (_, i) => i % 251));
    writeFileSync(file, bytes);
    const progress: number[] = [];
    const whole = createReadStream(file, { highWaterMark: 1 << 20 });
    await destination.put('whole', whole, {
      size: bytes.length,
      sha256: createHash('sha256').update(bytes).digest('hex'),
      sourcePath: file,
      onProgress: (n) => progress.push(n),
    });
    expect(whole.bytesRead).toBe(0);
    expect(progress).toEqual([bytes.length]);
    expect(readFileSync(join(server.root, `t${folders}`, 'whole')).equals(bytes)).toBe(true);

    const part = createReadStream(file, { start: 10, end: 1_000_009 });
    await destination.put('part', part, {
      size: 1_000_000,
      sha256: createHash('sha256').update(bytes.subarray(10, 1_000_010)).digest('hex'),
    });
    expect(part.bytesRead).toBe(1_000_000);
    expect(readFileSync(join(server.root, `t${folders}`, 'part')).equals(bytes.subarray(10, 1_000_010))).toBe(
      true,
    );
    await destination.close();
  });

  it('a reader that stops early ends the download without an error', async () => {
    const { destination } = open();
    const big = Buffer.alloc(8 * 1024 * 1024, 1);
    await destination.put('big', Readable.from([big]), {
      size: big.length,
      sha256: createHash('sha256').update(big).digest('hex'),
    });
    const stream = await destination.get('big');
    const first = await new Promise<Buffer>((resolve) => stream.once('data', resolve));
    expect(first.length).toBeGreaterThan(0);
    stream.destroy();
    await new Promise((resolve) => stream.once('close', resolve));
    expect(await read(destination, 'big')).toHaveLength(big.length);
    await destination.close();
  });

  it('check() reports the share, the folder and free space', async () => {
    const { destination } = open({ path: 'checked' });
    const result = await destination.check();
    expect(result.details).toEqual([
      `logged on to //${server.host}/${server.share} as "${server.username}"`,
      `//${server.host}/${server.share}/checked is writable (probe file written and deleted)`,
      expect.stringMatching(/^\d+\.\d GiB free$/),
    ]);
    expect(readdirSync(join(server.root, 'checked'))).toEqual([]);
    await destination.close();
  });
});
