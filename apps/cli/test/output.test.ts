import { PassThrough } from 'node:stream';
import type { DestinationPlugin, ResolvedDestination } from '@matric-backup/core';
import local from '@matric-backup/plugin-local';
import s3 from '@matric-backup/plugin-s3';
import sftp from '@matric-backup/plugin-sftp';
import smb from '@matric-backup/plugin-smb';
import { describe, expect, it } from 'vitest';
import { whereIs } from '../src/destinations.js';
import { longLines, onOneLine, shortLines } from '../src/output/file-lines.js';
import { formatBytes, formatCount, formatDuration, formatRate } from '../src/output/format.js';
import { Printer } from '../src/output/printer.js';

function capture() {
  const stream = new PassThrough() as PassThrough & NodeJS.WriteStream;
  let text = '';
  stream.on('data', (chunk: Buffer) => (text += chunk.toString()));
  return { stream, text: () => text };
}

describe('Printer', () => {
  it('redacts every secret from results, warnings and errors', () => {
    const out = capture();
    const err = capture();
    const printer = new Printer({
      json: false,
      verbose: false,
      color: false,
      stdout: out.stream,
      stderr: err.stream,
      env: {},
    });
    printer.addSecrets(['s3cr3t-token']);
    printer.line('url https://hook/s3cr3t-token');
    printer.warn('failed with s3cr3t-token');
    printer.error('error: s3cr3t-token rejected');
    expect(out.text() + err.text()).not.toContain('s3cr3t-token');
    expect(out.text()).toContain('https://hook/');
  });

  it('with --json: messages are masked, ids, keys, paths and names never', () => {
    const out = capture();
    const printer = new Printer({ json: true, verbose: false, color: false, stdout: out.stream, env: {} });
    printer.addSecrets(['backup', 's3cr3t-token']);
    printer.result({
      id: 'backup_20261203_081023',
      archive: { key: 'backup_20261203_081023.tar.zst' },
      config: '/etc/matric-backup/backup.yaml',
      destinations: [
        { name: 'nas', error: { code: 'AUTH_FAILED', message: 'user backup: s3cr3t-token refused' } },
      ],
    });
    expect(JSON.parse(out.text())).toEqual({
      schema_version: 1,
      id: 'backup_20261203_081023',
      archive: { key: 'backup_20261203_081023.tar.zst' },
      config: '/etc/matric-backup/backup.yaml',
      destinations: [{ name: 'nas', error: { code: 'AUTH_FAILED', message: 'user ***: *** refused' } }],
    });
  });

  it('with --json: only the result document on stdout, no human lines', () => {
    const out = capture();
    const err = capture();
    const printer = new Printer({
      json: true,
      verbose: false,
      color: true,
      stdout: out.stream,
      stderr: err.stream,
      env: {},
    });
    printer.line('human');
    printer.note('progress');
    printer.result({ ok: true });
    // One line, so `>> runs.jsonl` collects JSON Lines; schema_version first.
    expect(out.text()).toBe('{"schema_version":1,"ok":true}\n');
    expect(err.text()).toBe('');
    expect(printer.interactive).toBe(false);
  });

  it('with --json-lines: events one line each as they happen, the document as the last, `finished`', () => {
    const out = capture();
    const printer = new Printer({
      json: false,
      jsonLines: true,
      verbose: false,
      color: false,
      stdout: out.stream,
      env: {},
    });
    printer.addSecrets(['s3cr3t-token']);
    printer.line('human');
    printer.event('upload_finished', { destination: 'nas', error: { code: 'X', message: 's3cr3t-token' } });
    printer.result({ id: 'backup_20261203_081023', status: 'success' });
    const lines = out
      .text()
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(lines).toEqual([
      {
        schema_version: 1,
        event: 'upload_finished',
        time: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
        destination: 'nas',
        error: { code: 'X', message: '***' },
      },
      {
        schema_version: 1,
        event: 'finished',
        time: expect.any(String),
        id: 'backup_20261203_081023',
        status: 'success',
      },
    ]);
    expect(printer.json).toBe(true);
  });

  it('no colors when the stream is not a terminal', () => {
    const out = capture();
    const printer = new Printer({
      json: false,
      verbose: false,
      color: true,
      stdout: out.stream,
      stderr: out.stream,
      env: {},
    });
    expect(printer.style.ok('ok')).toBe('ok');
  });
});

describe('format', () => {
  it.each([
    [0, '0 B'],
    [1023, '1023 B'],
    [1536, '1.5 KiB'],
    [50 * 1024 * 1024, '50 MiB'],
    [3 * 1024 ** 3, '3.0 GiB'],
  ])('formatBytes(%i) = %s', (bytes, text) => expect(formatBytes(bytes)).toBe(text));

  it('durations, rates and counts', () => {
    expect(formatDuration(48)).toBe('48 ms');
    expect(formatDuration(1234)).toBe('1.2 s');
    expect(formatDuration(95_000)).toBe('1 min 35 s');
    expect(formatRate(10 * 1024 * 1024, 1000)).toBe('10 MiB/s');
    expect(formatRate(0, 1000)).toBe('');
    expect(formatCount(1, 'file')).toBe('1 file');
    expect(formatCount(10009, 'file')).toBe('10,009 files');
    expect(formatCount(2, 'directory', 'directories')).toBe('2 directories');
  });
});

describe('whereIs', () => {
  const plugins: Record<string, DestinationPlugin> = {
    local,
    s3,
    sftp: sftp[0]!,
    rsync: sftp[1]!,
    smb,
    webdav: { ...local, type: 'webdav', describe: undefined },
  };
  /** A destination block as core resolves it: the plugin's own schema validated the keys. */
  const destination = (type: string, config: Record<string, unknown>) =>
    ({
      name: 'd',
      type,
      enabled: true,
      required: true,
      plugin: plugins[type],
      config: plugins[type]!.configSchema.parse(config),
      secrets: [],
    }) as unknown as ResolvedDestination;
  const key = 'backup_20250131_020004.tar.zst';

  it.each([
    ['local', { path: '/var/backups' }, `/var/backups/${key}`],
    ['local', { path: '/var/backups/' }, `/var/backups/${key}`],
    ['s3', { bucket: 'b', prefix: 'prod/' }, `s3://b/prod/${key}`],
    ['s3', { bucket: 'b' }, `s3://b/${key}`],
    [
      'sftp',
      { host: 'nas', port: 2222, username: 'bk', path: '/srv/b', password: 'x' },
      `sftp://bk@nas:2222/srv/b/${key}`,
    ],
    ['sftp', { host: 'nas', username: 'bk', path: 'backups', password: 'x' }, `sftp://bk@nas/backups/${key}`],
    ['rsync', { target: 'bk@nas:/srv/b', ssh_key: '/k' }, `bk@nas:/srv/b/${key}`],
    [
      'smb',
      { share: '//server/share', path: 'matric', credentials_file: '/c' },
      `//server/share/matric/${key}`,
    ],
    ['smb', { mount_point: '/mnt/nas', path: 'matric/' }, `/mnt/nas/matric/${key}`],
    ['webdav', { path: '/x' }, `d:${key}`],
  ])('%s %j', (type, config, expected) => expect(whereIs(destination(type, config), key)).toBe(expected));
});

describe('file lines', () => {
  it('show a path with control characters on one line, as \\xNN; other names as they are', () => {
    expect(onOneLine('notes/a\nb\tc\x1b[31m\x7f.txt')).toBe('notes/a\\x0ab\\x09c\\x1b[31m\\x7f.txt');
    expect(onOneLine('docs/café – ünïcode \\x41.txt')).toBe('docs/café – ünïcode \\x41.txt');
    const entry = { path: 'src/two\nlines', type: 'symlink', mode: 0o777, mtime: '2025-01-31T02:00:04.000Z' };
    expect(shortLines([{ ...entry, type: 'directory' } as never])).toEqual(['src/two\\x0alines/']);
    expect(longLines([{ ...entry, target: '/tmp/x\ny', uid: 0, gid: 0 } as never])[0]).toMatch(
      / {2}src\/two\\x0alines -> \/tmp\/x\\x0ay$/,
    );
  });
});
