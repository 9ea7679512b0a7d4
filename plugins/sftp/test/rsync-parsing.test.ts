import { describe, expect, it } from 'vitest';
import { exactNamePattern, quoteShellWord } from '../src/rsync/args.js';
import { parseListLine } from '../src/rsync/listing.js';
import { parseTarget, remoteLayout, remoteSpec } from '../src/rsync/target.js';

describe('rsync target', () => {
  it('parses ssh and daemon targets and lays out remote paths', () => {
    const ssh = parseTarget('backup@nas.local:/backups/matric');
    expect(ssh).toEqual({ kind: 'ssh', user: 'backup', host: 'nas.local', path: '/backups/matric' });
    const layout = remoteLayout(ssh as never);
    expect(layout).toEqual({ base: 'backup@nas.local:/', root: 'backups/matric' });
    expect(remoteSpec(layout, 'a b/c')).toBe('backup@nas.local:/backups/matric/a b/c');

    const home = remoteLayout(parseTarget('nas:') as never);
    expect(remoteSpec(home, '')).toBe('nas:.');
    expect(remoteSpec(home, 'k')).toBe('nas:k');

    const daemon = parseTarget('rsync://u@127.0.0.1:8873/backup/some path/');
    expect(daemon).toEqual({
      kind: 'daemon',
      user: 'u',
      host: '127.0.0.1',
      port: 8873,
      module: 'backup',
      path: 'some path/',
    });
    expect(remoteSpec(remoteLayout(daemon as never), 'k')).toBe(
      'rsync://u@127.0.0.1:8873/backup/some path/k',
    );
    expect(remoteLayout(parseTarget('rsync://h/m') as never, 873).base).toBe('rsync://h:873/m/');
    expect(parseTarget('u@[::1]:/x')).toMatchObject({ host: '::1', path: '/x' });
  });

  it('rejects what is not a target, with a hint', () => {
    expect(parseTarget('/just/a/path')).toHaveProperty('error');
    expect(parseTarget('nas::module/path')).toEqual({
      error: 'write the daemon form host::module as rsync://host/module',
    });
    expect(parseTarget('rsync://host')).toHaveProperty('error');
  });
});

describe('rsync --list-only lines', () => {
  it('parses sizes, UTC times, spaces, unicode and escaped control characters', () => {
    expect(parseListLine('-rw-------          12345 2024/05/01 10:11:12  two  spaces é 日本.bin')).toEqual({
      type: 'file',
      name: ' two  spaces é 日本.bin',
      size: 12345,
      modified: new Date('2024-05-01T10:11:12Z'),
    });
    expect(parseListLine('-rw-r--r--              1 2024/05/01 10:11:12 new\\#012line')?.name).toBe(
      'new\nline',
    );
    expect(parseListLine('drwxr-xr-x           4096 2024/05/01 10:11:12 .')?.type).toBe('directory');
    expect(parseListLine('lrwxrwxrwx              4 2024/05/01 10:11:12 l -> x')?.type).toBe('other');
    expect(parseListLine('receiving incremental file list')).toBeUndefined();
  });
});

describe('rsync arguments', () => {
  it('escapes filter wildcards so a name matches only itself', () => {
    expect(exactNamePattern('plain name.tar')).toBe('/plain name.tar');
    expect(exactNamePattern('a*b?[c]')).toBe('/a\\*b\\?\\[c]');
  });

  it('quotes -e words for rsync’s splitter', () => {
    expect(quoteShellWord('/path/key')).toBe('/path/key');
    expect(quoteShellWord('/with space/key')).toBe("'/with space/key'");
    expect(quoteShellWord("it's")).toBe('"it\'s"');
    expect(() => quoteShellWord(`'"`)).toThrow(/both kinds of quotes/);
  });
});
