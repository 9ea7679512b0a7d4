import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmod, mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DestinationError } from '@matric-backup/plugin-api';
import { afterEach, describe, expect, it } from 'vitest';
import { acquireRunLock } from '../src/run/lock.js';
import { runBackup } from '../src/run/run.js';
import type { RunEvent, RunOptions } from '../src/run/types.js';
import { parseInnerManifest, parseShardManifest } from '../src/shard/manifest-schema.js';
import { readArchive } from './fixtures/run/archive.js';
import { setupRun, TEST_TAG, type TestDestination, type TestSetup } from './fixtures/run/config.js';
import { asUnprivilegedUser } from './fixtures/run/unprivileged.js';

const NOW = new Date('2026-01-17T02:00:00.000Z');
const ID = `backup_20260117_020000_${TEST_TAG}`;

let setup: TestSetup | undefined;
afterEach(() => setup?.cleanup());

/** A tree `data/` with two files, plus the config around it. */
async function prepare(destinations?: TestDestination[], backup?: Record<string, unknown>) {
  setup = await setupRun({
    sources: (dir) => [{ name: 'notes', type: 'directory', path: join(dir, 'data') }],
    destinations,
    backup,
  });
  await mkdir(join(setup.dir, 'data', 'sub'), { recursive: true });
  await writeFile(join(setup.dir, 'data', 'a.txt'), 'alpha\n');
  await writeFile(join(setup.dir, 'data', 'sub', 'b.txt'), 'bravo\n');
  return setup;
}

async function run(options: RunOptions = {}) {
  const events: RunEvent[] = [];
  const summary = await runBackup(setup!.config, {
    now: NOW,
    onEvent: (event) => events.push(event),
    ...options,
  });
  return { summary, events };
}

const retryable = () => new DestinationError('UNREACHABLE', 'connection reset', { retryable: true });
const fatal = () => new DestinationError('PERMISSION_DENIED', 'read-only bucket', { retryable: false });

describe('runBackup', () => {
  it('stores one archive and its sidecar, written last, on every destination (exit 0)', async () => {
    const { store, writes } = await prepare([{ name: 'one' }, { name: 'two' }]);
    const { summary, events } = await run();

    expect(summary).toMatchObject({ id: ID, status: 'success', dryRun: false, warnings: [] });
    expect(summary.error).toBeUndefined();
    for (const name of ['one', 'two']) {
      expect(store(name).keys()).toEqual([`${ID}.index.json.zst`, `${ID}.manifest.json`, `${ID}.tar.zst`]);
      expect(writes(name)).toEqual([
        `put ${ID}.tar.zst`,
        `put ${ID}.index.json.zst`,
        `put ${ID}.manifest.json`,
      ]);
      const sidecar = parseShardManifest(store(name).objects.get(`${ID}.manifest.json`)!.bytes.toString());
      expect(sidecar).toEqual(summary.manifest);
    }
    const stored = store('one').objects.get(`${ID}.tar.zst`)!.bytes;
    expect(store('two').objects.get(`${ID}.tar.zst`)!.bytes.equals(stored)).toBe(true);
    expect(summary.archive).toEqual({
      key: `${ID}.tar.zst`,
      size: stored.length,
      sha256: createHash('sha256').update(stored).digest('hex'),
      files: 2,
      bytesIn: 12,
    });
    expect(summary.destinations).toEqual([
      {
        name: 'one',
        type: 'memory',
        required: true,
        status: 'success',
        bytes: expect.any(Number),
        durationMs: expect.any(Number),
        attempts: 1,
        prune: { deleted: [], failed: [] },
      },
      {
        name: 'two',
        type: 'memory',
        required: true,
        status: 'success',
        bytes: expect.any(Number),
        durationMs: expect.any(Number),
        attempts: 1,
        prune: { deleted: [], failed: [] },
      },
    ]);
    expect(
      events
        .map((event) => event.type)
        .filter((type) => type !== 'archive-progress' && type !== 'upload-progress'),
    ).toEqual([
      'archive-start',
      'archive-done',
      'upload-start',
      'upload-start',
      'upload-done',
      'upload-done',
    ]);
  });

  it('fills every sidecar field and the archive round-trips', async () => {
    await prepare(undefined, {
      compression: { algorithm: 'gzip', level: 1 },
    });
    const { summary } = await run();
    const stored = setup!.store('primary').objects.get(`${ID}.tar.gz`)!.bytes;
    const index = setup!.store('primary').objects.get(`${ID}.index.json.zst`)!.bytes;
    expect(summary.manifest).toEqual({
      version: '1.0.0',
      format: 'matric-backup',
      id: ID,
      created_at: NOW.toISOString(),
      timestamp: NOW.toISOString(),
      created_by: expect.stringMatching(/^matric-backup\/\d+\.\d+\.\d+/),
      source_instance: 'test-host',
      writer: { name: 'test-config', tag: TEST_TAG, run: expect.stringMatching(/^[0-9a-f]{24}$/) },
      type: 'full',
      encryption: null,
      compression: 'gzip',
      collections: ['notes'],
      origins: [{ name: 'notes', type: 'directory', path: expect.stringMatching(/^\//) }],
      counts: { files: 2, directories: 2, symlinks: 0, sources: 1, hardlinks: 0 },
      file_count: 2,
      size_bytes: 12,
      options: {},
      object: { name: `${ID}.tar.gz`, size: stored.length },
      checksum: `sha256:${createHash('sha256').update(stored).digest('hex')}`,
      index: {
        name: `${ID}.index.json.zst`,
        size: index.length,
        checksum: `sha256:${createHash('sha256').update(index).digest('hex')}`,
      },
    });
    const entries = await readArchive(stored, 'gzip');
    expect(entries.map((entry) => entry.name)).toEqual([
      'notes',
      'notes/a.txt',
      'notes/sub',
      'notes/sub/b.txt',
      'manifest.json',
    ]);
    expect(entries[1]!.data.toString()).toBe('alpha\n');
    expect(parseInnerManifest(entries.at(-1)!.data.toString()).id).toBe(ID);
  });

  it('encrypts the stored object with age when enabled (decrypts with the age CLI)', async () => {
    await prepare();
    const identity = join(setup!.dir, 'key.txt');
    execFileSync('age-keygen', ['-o', identity], { stdio: 'ignore' });
    const recipient = execFileSync('age-keygen', ['-y', identity], { encoding: 'utf8' }).trim();
    setup!.config.backup.encryption = { enabled: true, method: 'age', recipients: [recipient] };
    const { summary } = await run();
    expect(summary.manifest).toMatchObject({
      encryption: { method: 'age', recipient_count: 1 },
      object: { name: `${ID}.tar.zst.age` },
    });
    const stored = setup!.store('primary').objects.get(`${ID}.tar.zst.age`)!.bytes;
    expect(summary.manifest!.checksum).toBe(`sha256:${createHash('sha256').update(stored).digest('hex')}`);
    const plain = execFileSync('age', ['-d', '-i', identity], { input: stored });
    const entries = await readArchive(plain, 'zstd');
    expect(entries.find((entry) => entry.name === 'notes/a.txt')!.data.toString()).toBe('alpha\n');
  });

  it('never archives the state folder (and the spool in it), even when a source contains it, with a notice', async () => {
    setup = await setupRun({ sources: (dir) => [{ name: 'all', type: 'directory', path: dir }] });
    await writeFile(join(setup.dir, 'file.txt'), 'x');
    const { summary } = await run();
    expect(summary.status).toBe('success');
    const entries = await readArchive(setup.store('primary').objects.get(`${ID}.tar.zst`)!.bytes, 'zstd');
    const names = entries.map((entry) => entry.name);
    expect(names).toContain('all/file.txt');
    expect(names.filter((name) => name.startsWith('all/state'))).toEqual([]);
    expect(summary.warnings).toEqual([
      {
        code: 'FILE_SKIPPED',
        message: `left out ${join(setup.dir, 'state')}: it is the state folder`,
        source: 'all',
        path: 'all/state',
      },
    ]);
  });

  it('leaves neither spool files nor the lock behind', async () => {
    const { config } = await prepare();
    await run();
    expect(await readdir(config.backup.spool_dir)).toEqual([]);
    expect((await readdir(config.backup.state_dir)).filter((name) => name.endsWith('.lock'))).toEqual([]);
  });

  it('a failed optional destination is a warning (exit 0)', async () => {
    const { store } = await prepare([{ name: 'main' }, { name: 'extra', required: false }]);
    store('extra').failPut = fatal;
    const { summary } = await run();
    expect(summary).toMatchObject({ status: 'success' });
    expect(summary.warnings).toEqual([
      {
        code: 'DESTINATION_FAILED',
        message: 'optional destination extra failed: read-only bucket',
        destination: 'extra',
      },
    ]);
    expect(summary.destinations[1]).toMatchObject({
      name: 'extra',
      required: false,
      status: 'failed',
      bytes: 0,
      attempts: 1,
      error: { code: 'PERMISSION_DENIED', message: 'read-only bucket', retryable: false },
    });
    expect(store('extra').keys()).toEqual([]);
  });

  it('a failed required destination while another has the shard is partial (exit 3)', async () => {
    const { store } = await prepare([{ name: 'main' }, { name: 'offsite' }]);
    store('offsite').failPut = fatal;
    const { summary } = await run();
    expect(summary).toMatchObject({
      status: 'partial',
      error: { code: 'PERMISSION_DENIED', message: 'required destination failed: offsite: read-only bucket' },
    });
    expect(store('main').keys()).toEqual([`${ID}.index.json.zst`, `${ID}.manifest.json`, `${ID}.tar.zst`]);
  });

  it('no destination with the shard is a failure (exit 1), even when all were optional', async () => {
    const { store } = await prepare([
      { name: 'a', required: false },
      { name: 'b', required: false },
    ]);
    store('a').failPut = fatal;
    store('b').failPut = fatal;
    const { summary } = await run();
    expect(summary).toMatchObject({ status: 'failed', error: { code: 'PERMISSION_DENIED' } });
    expect(summary.error!.message).toBe(
      'no destination stored the shard: a: read-only bucket; b: read-only bucket',
    );
  });

  it('retries retryable errors max_retries times, reporting each retry, then fails', async () => {
    const { store } = await prepare([{ name: 'flaky' }]);
    store('flaky').failPut = retryable;
    const { summary, events } = await run();
    expect(summary).toMatchObject({ status: 'failed' });
    expect(summary.destinations[0]).toMatchObject({
      status: 'failed',
      attempts: 4,
      error: { code: 'UNREACHABLE', retryable: true },
    });
    expect(store('flaky').attempts(`${ID}.tar.zst`)).toBe(4);
    expect(events.filter((event) => event.type === 'upload-retry')).toEqual(
      [1, 2, 3].map((attempt) => ({
        type: 'upload-retry',
        destination: 'flaky',
        attempt,
        delayMs: 0,
        error: { code: 'UNREACHABLE', message: 'connection reset' },
      })),
    );
  });

  it('succeeds after transient failures, each attempt re-reading the spool from the start', async () => {
    const { store } = await prepare([{ name: 'flaky' }], { retry: { max_retries: 2, initial_delay: 0 } });
    store('flaky').failPut = (key, attempt) =>
      key.endsWith('.tar.zst') && attempt <= 2 ? retryable() : undefined;
    const { summary } = await run();
    expect(summary).toMatchObject({
      status: 'success',
      destinations: [{ attempts: 3, status: 'success' }],
    });
    expect(store('flaky').keys()).toEqual([`${ID}.index.json.zst`, `${ID}.manifest.json`, `${ID}.tar.zst`]);
  });

  it('does not retry an error that is not retryable', async () => {
    const { store } = await prepare([{ name: 'full' }]);
    store('full').failPut = () => new DestinationError('NO_SPACE', 'disk full', { retryable: false });
    const { summary } = await run();
    expect(summary.destinations[0]).toMatchObject({ attempts: 1, error: { code: 'NO_SPACE' } });
  });

  it('deletes the archive again when the sidecar cannot be stored, so no incomplete shard lingers', async () => {
    const { store, writes } = await prepare([{ name: 'main' }, { name: 'backup' }]);
    store('main').failPut = (key) => (key.endsWith('.manifest.json') ? fatal() : undefined);
    const { summary } = await run();
    expect(summary).toMatchObject({ status: 'partial' });
    expect(writes('main')).toEqual([
      `put ${ID}.tar.zst`,
      `put ${ID}.index.json.zst`,
      `put ${ID}.manifest.json`,
      `delete ${ID}.index.json.zst`,
      `delete ${ID}.tar.zst`,
    ]);
    expect(store('main').keys()).toEqual([]);
  });

  it('a failing command source fails the run (exit 1) and stores nothing anywhere', async () => {
    setup = await setupRun({
      sources: [
        {
          name: 'db',
          type: 'command',
          command: ['sh', '-c', 'echo "FATAL: no such database" >&2; exit 2'],
          filename: 'db.sql',
        },
      ],
      destinations: [{ name: 'one' }, { name: 'two' }],
    });
    const { summary, events } = await run();
    expect(summary).toMatchObject({
      status: 'failed',
      error: {
        code: 'SOURCE_FAILED',
        message: 'source db: command sh exited with code 2; stderr:\nFATAL: no such database',
      },
    });
    expect(summary.archive).toBeUndefined();
    expect(summary.destinations.map((result) => result.status)).toEqual(['skipped', 'skipped']);
    for (const name of ['one', 'two']) expect(setup.writes(name)).toEqual([]);
    expect(events.some((event) => event.type === 'upload-start')).toBe(false);
    expect(await readdir(setup.config.backup.spool_dir)).toEqual([]);
  });

  it('archives a command source stdout as <source>/<filename>', async () => {
    setup = await setupRun({
      sources: [{ name: 'db', type: 'command', command: ['printf', 'CREATE TABLE t;'], filename: 'db.sql' }],
    });
    const { summary } = await run();
    expect(summary.status).toBe('success');
    const entries = await readArchive(setup.store('primary').objects.get(`${ID}.tar.zst`)!.bytes, 'zstd');
    expect(entries.map((entry) => [entry.name, entry.data.toString()])).toEqual([
      ['db', ''],
      ['db/db.sql', 'CREATE TABLE t;'],
      ['manifest.json', expect.any(String)],
    ]);
  });

  it('an unreadable file is left out: the shard is stored, listed in both manifests, completed with warnings (exit 5)', async () => {
    const { dir, store } = await prepare();
    await writeFile(join(dir, 'data', 'secret.key'), 'k');
    await chmod(join(dir, 'data', 'secret.key'), 0o000);
    const { summary, events } = await asUnprivilegedUser(dir, () => run());
    const listed = [{ code: 'UNREADABLE', path: 'notes/secret.key', reason: 'permission denied' }];
    expect(summary).toMatchObject({ status: 'warning', sourceWarnings: listed });
    expect(summary.error).toBeUndefined();
    const message = `source notes: ${join(dir, 'data', 'secret.key')}: permission denied (UNREADABLE)`;
    const warned = { code: 'FILE_UNREADABLE', message, source: 'notes', path: 'notes/secret.key' };
    expect(summary.warnings).toEqual([warned]);
    expect(events).toContainEqual({ type: 'warning', warning: warned });
    const sidecar = parseShardManifest(store('primary').objects.get(`${ID}.manifest.json`)!.bytes.toString());
    expect(sidecar.warnings).toEqual(listed);
    const entries = await readArchive(store('primary').objects.get(`${ID}.tar.zst`)!.bytes, 'zstd');
    expect(entries.map((entry) => entry.name)).toEqual([
      'notes',
      'notes/a.txt',
      'notes/sub',
      'notes/sub/b.txt',
      'manifest.json',
    ]);
    expect(parseInnerManifest(entries.at(-1)!.data.toString()).warnings).toEqual(listed);
  });

  it('with on_error: fail an unreadable file fails the run naming it, and nothing is stored', async () => {
    const { dir, config, writes } = await prepare();
    config.backup.sources = [
      { name: 'notes', type: 'directory', path: join(dir, 'data'), on_error: 'fail', one_file_system: false },
    ];
    await writeFile(join(dir, 'data', 'secret.key'), 'k');
    await chmod(join(dir, 'data', 'secret.key'), 0o000);
    const { summary } = await asUnprivilegedUser(dir, () => run());
    expect(summary).toMatchObject({
      status: 'failed',
      error: {
        code: 'SOURCE_FAILED',
        message: `source notes: cannot read ${join(dir, 'data', 'secret.key')}: permission denied (EACCES)`,
        hint: expect.stringContaining('exclude'),
      },
    });
    expect(writes('primary')).toEqual([]);
    expect(await readdir(config.backup.spool_dir)).toEqual([]);
  });

  it('an unusable spool folder fails the run naming it, and nothing is stored', async () => {
    const { config, dir, writes } = await prepare();
    await writeFile(join(dir, 'blocker'), '');
    config.backup.spool_dir = join(dir, 'blocker', 'spool');
    const { summary } = await run();
    expect(summary).toMatchObject({
      status: 'failed',
      error: {
        code: 'UNKNOWN',
        message: expect.stringContaining(`could not write the shard to ${config.backup.spool_dir}`),
      },
    });
    expect(writes('primary')).toEqual([]);
  });

  it('uses only the named destinations; unknown names are a USAGE error listing the configured ones', async () => {
    const { store } = await prepare([{ name: 'a' }, { name: 'b' }, { name: 'off', enabled: false }]);
    const { summary } = await run({ destinations: ['b'] });
    expect(summary.destinations.map((result) => result.name)).toEqual(['b']);
    expect(store('a').keys()).toEqual([]);
    await expect(run({ destinations: ['b', 'nope'] })).rejects.toMatchObject({
      code: 'USAGE',
      message: expect.stringContaining('unknown destination "nope"'),
    });
    await expect(run({ destinations: ['nope'] })).rejects.toThrow(/configures a, b, off$/);
  });

  it('skips disabled destinations unless named', async () => {
    const { writes } = await prepare([{ name: 'on' }, { name: 'off', enabled: false }]);
    const { summary } = await run();
    expect(summary.destinations.map((result) => result.name)).toEqual(['on']);
    expect(writes('off')).toEqual([]);
  });

  it('a destination that cannot be opened fails alone; the others still get the shard', async () => {
    const { config, store } = await prepare([{ name: 'good' }, { name: 'broken' }]);
    const broken = config.destinations[1]!;
    broken.plugin = {
      ...broken.plugin,
      create: () => {
        throw new DestinationError('UNREACHABLE', 'no route to the store', { retryable: false });
      },
    };
    const { summary } = await run();
    expect(summary).toMatchObject({ status: 'partial' });
    expect(summary.destinations[1]).toMatchObject({
      name: 'broken',
      status: 'failed',
      attempts: 0,
      error: { code: 'UNREACHABLE' },
    });
    expect(store('good').keys()).toHaveLength(3);
  });

  it('adds a suffix when a destination already has a shard of that second', async () => {
    const { store } = await prepare();
    store('primary').objects.set(`${ID}.manifest.json`, { bytes: Buffer.from('{}'), modified: NOW });
    const { summary } = await run();
    expect(summary.id).toBe(`${ID}_2`);
    expect(store('primary').keys()).toContain(`${ID}_2.tar.zst`);
  });

  it('dry run: walks the sources and reports the plan, writing nothing anywhere', async () => {
    const { dir, config, writes } = await prepare([{ name: 'a' }, { name: 'b' }]);
    const { summary, events } = await run({ dryRun: true });
    expect(summary).toMatchObject({
      status: 'success',
      dryRun: true,
      plan: {
        key: `${ID}.tar.zst`,
        files: 2,
        directories: 2,
        symlinks: 0,
        bytesIn: 12,
        commands: [],
        destinations: ['a', 'b'],
      },
    });
    expect(summary.destinations.map((result) => result.status)).toEqual(['skipped', 'skipped']);
    expect(writes('a')).toEqual([]);
    expect(await readdir(dir)).toEqual(['data']);
    expect(events).toEqual([]);
    expect(config.backup.state_dir.startsWith(dir)).toBe(true);
  });

  it('refuses to start while another run of the config holds the lock', async () => {
    const { config, writes } = await prepare();
    const lock = await acquireRunLock(config.backup.state_dir, config.file);
    try {
      await expect(run()).rejects.toMatchObject({
        code: 'LOCKED',
        message: expect.stringContaining(`pid ${process.pid}`),
      });
      expect(writes('primary')).toEqual([]);
    } finally {
      await lock.release();
    }
  });
});
