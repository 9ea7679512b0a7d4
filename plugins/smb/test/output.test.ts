import { describe, expect, it } from 'vitest';
import { parseAllinfo, parseFreeBytes, parseGetSize, parseListing, statusLines } from '../src/output.js';

// Captured from smbclient 4.17 (TZ=UTC, LC_ALL=C, --stderr) against Samba 4.17.
const RECURSIVE_LS = [
  'Try "help" to get a list of possible commands.',
  '  .                                   D        0  Mon Nov 23 18:21:27 2026',
  '  ..                                  D        0  Mon Nov 23 18:52:56 2026',
  '  with space                          D        0  Mon Nov 23 18:21:27 2026',
  "  it's ünï                          A        3  Mon Nov 23 18:18:10 2026",
  '  .hid.tmp-1                         AH        3  Mon Nov 23 18:21:27 2026',
  '  ABC DEF                             A 1073741824  Tue Feb  3 04:05:06 2026',
  '  a name that is longer than thirty characters.tar.zst      A       12  Mon Nov 23 18:21:27 2026',
  '',
  '\\base\\with space',
  '  .                                   D        0  Mon Nov 23 18:21:27 2026',
  '  ..                                  D        0  Mon Nov 23 18:21:27 2026',
  '  NT_STATUS_FOO and 42                A        7  Mon Nov 23 18:21:27 2026',
  '  日本語のファイル 😀.dat             A        1  Mon Nov 23 18:21:27 2026',
  '',
  '\t\t264212084 blocks of size 1024. 76657220 blocks available',
].join('\n');

describe('parseListing', () => {
  const entries = parseListing(RECURSIVE_LS);

  it('reads names with spaces, quotes, unicode, capitals and digits, from the right', () => {
    expect(entries.map((entry) => [entry.folder, entry.name, entry.isFolder, entry.size])).toEqual([
      [undefined, 'with space', true, 0],
      [undefined, "it's ünï", false, 3],
      [undefined, '.hid.tmp-1', false, 3],
      [undefined, 'ABC DEF', false, 1073741824],
      [undefined, 'a name that is longer than thirty characters.tar.zst', false, 12],
      ['\\base\\with space', 'NT_STATUS_FOO and 42', false, 7],
      ['\\base\\with space', '日本語のファイル 😀.dat', false, 1],
    ]);
  });

  it('reads the date as UTC, including a space-padded day', () => {
    expect(entries[3]!.modified.toISOString()).toBe('2026-02-03T04:05:06.000Z');
    expect(entries[1]!.modified.toISOString()).toBe('2026-11-23T18:18:10.000Z');
  });
});

describe('parseAllinfo', () => {
  const file = [
    'altname: f1-1',
    'create_time:    Mon Nov 23 19:13:47 2026 UTC',
    'access_time:    Mon Nov 23 19:13:47 2026 UTC',
    'write_time:     Tue Nov 24 01:02:03 2026 UTC',
    'change_time:    Mon Nov 23 19:13:47 2026 UTC',
    'attributes: A (20)',
    'stream: [::$DATA], 5 bytes',
  ].join('\n');

  it('gives size and write time of a file', () => {
    expect(parseAllinfo(file)).toEqual({
      isFolder: false,
      size: 5,
      modified: new Date('2026-11-24T01:02:03Z'),
    });
  });

  it('recognises a folder and a missing entry', () => {
    const folder = file.replace('attributes: A (20)', 'attributes: D (10)').replace(/\nstream.*/, '');
    expect(parseAllinfo(folder)?.isFolder).toBe(true);
    expect(parseAllinfo('NT_STATUS_OBJECT_NAME_NOT_FOUND getting alt name for \\x')).toBeUndefined();
  });
});

describe('statusLines', () => {
  it('finds the statuses smbclient reports, wherever it puts them, but not in file names', () => {
    const output = [
      'session setup failed: NT_STATUS_LOGON_FAILURE',
      'do_connect: Connection to 127.0.0.1 failed (Error NT_STATUS_CONNECTION_REFUSED)',
      'cli_push returned NT_STATUS_DISK_FULL',
      'NT_STATUS_OBJECT_NAME_COLLISION making remote directory \\a b',
      '  NT_STATUS_FOO and 42                A        7  Mon Nov 23 18:21:27 2026',
      '\\NT_STATUS_BAR',
      'putting file /tmp/x as \\NT_STATUS_BAZ (0.1 kb/s) (average 0.1 kb/s)',
    ].join('\n');
    expect(statusLines(output).map((line) => line.status)).toEqual([
      'NT_STATUS_LOGON_FAILURE',
      'NT_STATUS_CONNECTION_REFUSED',
      'NT_STATUS_DISK_FULL',
      'NT_STATUS_OBJECT_NAME_COLLISION',
    ]);
  });
});

describe('free space and announced sizes', () => {
  it('computes free bytes from the blocks line', () => {
    expect(parseFreeBytes(RECURSIVE_LS)).toBe(76657220 * 1024);
    expect(parseFreeBytes('nothing')).toBeUndefined();
  });

  it('reads the size smbclient announces for a get, even when the name contains "of size"', () => {
    const line =
      'getting file \\a of size 3 as b of size 1316 as - (428.4 KiloBytes/sec) (average 428.4 KiloBytes/sec)';
    expect(parseGetSize(line)).toBe(1316);
  });
});
