import { describe, expect, it } from 'vitest';
import { nameSelector, treeSelector, typedPaths } from '../src/operations/path-match.js';

describe('paths as typed for ls, find and dump', () => {
  it('ls patterns select what they match and everything under it', () => {
    const selected = treeSelector(['/etc/ssh/', 'data/*.txt']);
    expect(
      ['etc/ssh', 'etc/ssh/sshd_config', 'etc/sshd', 'data/a.txt', 'data/sub/a.txt', 'data/.h.txt'].filter(
        selected,
      ),
    ).toEqual(['etc/ssh', 'etc/ssh/sshd_config', 'data/a.txt', 'data/.h.txt']);
    expect(treeSelector([])('anything')).toBe(true);
  });

  it('find matches names without a slash, whole paths with one', () => {
    const byName = nameSelector(['*.conf']);
    expect(['etc/a.conf', 'etc/conf.d/b', 'a.conf'].filter(byName)).toEqual(['etc/a.conf', 'a.conf']);
    const byPath = nameSelector(['etc/*.conf']);
    expect(['etc/a.conf', 'x/etc/a.conf'].filter(byPath)).toEqual(['etc/a.conf']);
  });

  it('\\xNN as ls shows a name that is not UTF-8 stands for that raw byte', () => {
    expect(typedPaths('src/caf\\xe9.txt')).toEqual(['src/caf\\xe9.txt', 'src/caf\udce9.txt']);
    // Below 0x80 a byte is always valid UTF-8: such an escape is the name's own text.
    expect(typedPaths('/src/a\\x41/')).toEqual(['src/a\\x41']);
    expect(treeSelector(['src/caf\\xe9*'])('src/caf\udce9.txt')).toBe(true);
  });
});
