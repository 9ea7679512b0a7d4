import { describe, expect, it } from 'vitest';
import { parseShare, smbConfigSchema } from '../src/config.js';
import { assertExpressible } from '../src/names.js';

const issues = (input: unknown) => {
  const result = smbConfigSchema.safeParse(input);
  return result.success
    ? []
    : result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
};

describe('config schema', () => {
  it('accepts blocks with credentials inline, in a file, or a mount point', () => {
    expect(issues({ share: '//fileserver/backups', username: 'u', password: 'p' })).toEqual([]);
    expect(
      issues({ share: '\\\\fileserver\\backups', credentials_file: '/etc/smb.creds', domain: 'CORP' }),
    ).toEqual([]);
    expect(
      issues({
        share: '//fileserver/backups',
        mount_point: '/mnt/backups',
        credentials_file: '/etc/smb.creds',
      }),
    ).toEqual([]);
    expect(issues({ mount_point: '/mnt/backups' })).toEqual([]);
    expect(smbConfigSchema.parse({ share: '//h/s', username: 'u' })).toMatchObject({
      port: 445,
      path: '',
      connections: 4,
    });
  });

  it('explains what is missing or contradictory, naming the key', () => {
    expect(issues({ username: 'u', password: 'p' })).toEqual([
      'share: share is required (or set mount_point to use a mounted share)',
    ]);
    expect(issues({ share: '//h/s' })).toEqual([
      'username: username (with password) or credentials_file is required to log on to the share',
    ]);
    expect(issues({ share: '//h/s', username: 'u', credentials_file: '/c' })).toEqual([
      'credentials_file: give either credentials_file or username/password, not both',
    ]);
    expect(issues({ share: '//h/s/sub', username: 'u' })[0]).toMatch(
      /^share: a share like \/\/server\/share/,
    );
    expect(issues({ share: '//h/s', username: 'u', extra: 1 })[0]).toMatch(/extra/);
  });

  it('refuses a password the credentials file cannot carry, without repeating it', () => {
    const found = issues({ share: '//h/s', username: 'u', password: ' s3cret\nline' });
    expect(found).toHaveLength(1);
    expect(found[0]).toMatch(/^password: /);
    expect(found[0]).not.toContain('s3cret');
  });

  it('refuses a path the share cannot hold', () => {
    expect(issues({ share: '//h/s', username: 'u', path: 'a/../b' })[0]).toMatch(/^path: .*contains \.\./);
    expect(issues({ share: '//h/s', username: 'u', path: 'a;b' })[0]).toMatch(/^path: .*";"/);
  });

  it('splits the share into host and name', () => {
    expect(parseShare('//nas.example/backups')).toEqual({ host: 'nas.example', name: 'backups' });
    expect(parseShare('\\\\nas\\b$')).toEqual({ host: 'nas', name: 'b$' });
  });
});

describe('names', () => {
  it('accepts spaces, single quotes, unicode and shell characters', () => {
    for (const key of ["it's a file", 'ünï/日本語 😀.dat', 'a%b&c$d!e@f(g)h[i]j{k}l+m,n~o`p^q', ' leading']) {
      expect(() => assertExpressible(key)).not.toThrow();
    }
  });

  it.each([
    ['say "hi"', '"\\""'],
    ['a;b', '";"'],
    ['a:b', '":"'],
    ['a*b', '"*"'],
    ['line\nbreak', '"\\n"'],
    ['tab\there', '"\\t"'],
    ['trailing /x', 'ending in a space'],
    ['dot./x', 'ending in a space or a dot'],
  ])('refuses %j with INVALID_KEY', (key, reason) => {
    expect(() => assertExpressible(key)).toThrow(
      expect.objectContaining({ code: 'INVALID_KEY', retryable: false }),
    );
    expect(() => assertExpressible(key)).toThrow(reason);
  });
});
