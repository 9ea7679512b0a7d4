import { describe, expect, it } from 'vitest';
import { resolveEncryptionPaths } from '../src/config/paths.js';

describe('backup.encryption paths', () => {
  const env = { HOME: '/home/op' };

  it('resolves the identity file, the gpg home and age recipient files against the config folder', () => {
    const resolved = resolveEncryptionPaths(
      {
        enabled: true,
        method: 'age' as const,
        recipients: ['age1qqqq', 'keys/team.txt', '~/more.txt', '/etc/matric/keys.txt'],
        identity_file: 'keys/id.txt',
        gpg_homedir: 'gnupg',
      },
      '/srv/conf',
      env,
    );
    expect(resolved).toEqual({
      enabled: true,
      method: 'age',
      recipients: ['age1qqqq', '/srv/conf/keys/team.txt', '/home/op/more.txt', '/etc/matric/keys.txt'],
      identity_file: '/srv/conf/keys/id.txt',
      gpg_homedir: '/srv/conf/gnupg',
    });
  });

  it('leaves gpg recipients alone: they are key ids, not paths', () => {
    const resolved = resolveEncryptionPaths(
      { method: 'gpg' as const, recipients: ['backup@example.com', 'ABCDEF0123456789'] },
      '/srv/conf',
      env,
    );
    expect(resolved).toEqual({ method: 'gpg', recipients: ['backup@example.com', 'ABCDEF0123456789'] });
  });
});
