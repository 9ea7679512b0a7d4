import { readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '@matric-backup/core';
import { describe, expect, it } from 'vitest';
import { loaderIn, tempDirs, writeConfig } from './fixtures/config/temp.js';
import { fakeBuiltins } from './fixtures/plugins/builtins.js';

const newDir = tempDirs();
const { load } = loaderIn(newDir);
const seedYaml = () => readFile(new URL('./fixtures/config/design-example.yaml', import.meta.url), 'utf8');

describe("loadConfig: the original design's backup.yaml", () => {
  it('loads the design example verbatim, every key kept', async () => {
    const config = await load(await seedYaml());
    expect(config.destinations.map((d) => [d.name, d.type, d.enabled, d.required])).toEqual([
      ['local-primary', 'local', true, true],
      ['s3-offsite', 's3', true, true],
      ['rsync-nas', 'rsync', false, true],
      ['smb-share', 'smb', false, true],
    ]);
    expect(config.destinations[0]!.config).toEqual({ path: '/var/backups/matric-memory' });
    expect(config.destinations[1]!.config).toEqual({
      endpoint: 'https://s3.amazonaws.com',
      bucket: 'matric-backups',
      prefix: 'prod/',
      region: 'us-east-1',
    });
    expect(config.destinations[2]!.config).toEqual({
      target: 'backup@nas.local:/backups/matric',
      ssh_key: '/root/.ssh/backup_key',
    });
    expect(config.destinations[3]!.plugin.type).toBe('smb');
    const { backup } = config;
    expect(backup.compression).toEqual({ algorithm: 'zstd', level: 3 });
    expect(backup.encryption).toEqual({ enabled: false, method: 'age', recipients: ['age1...'] });
    expect(backup.schedule).toEqual({ full_backup: 'daily', time: '02:00', day_of_week: 'sunday' });
    expect(backup.notifications).toEqual({
      on_success: false,
      on_failure: true,
      webhook_url: 'https://hooks.slack.com/...',
      email: 'admin@example.com',
      webhooks: [],
    });
    const seedRetention = {
      keep_daily: 7,
      keep_weekly: 4,
      keep_monthly: 12,
      keep_yearly: 3,
      max_total_size_gb: 100,
      min_backups: 3,
    };
    expect(backup.retention).toEqual(seedRetention);
    // No block has its own retention: each inherits backup.retention.
    for (const destination of config.destinations) expect(destination.retention).toEqual(seedRetention);
    // The webhook URL carries a token in real life: it is treated as a secret.
    expect(config.secrets).toEqual(['https://hooks.slack.com/...']);
  });
});

describe('loadConfig: defaults and paths', () => {
  it('fills defaults: sources, retry, id_prefix, state and spool dirs, source_instance', async () => {
    const dir = await newDir();
    const file = await writeConfig(
      dir,
      'backup:\n  destinations:\n    - {name: a, type: local, path: out}\n',
    );
    const env = { HOME: dir, XDG_STATE_HOME: join(dir, 'state') };
    const config = await loadConfig({ file, env, builtins: fakeBuiltins });
    expect(config.file).toBe(file);
    expect(config.dir).toBe(dir);
    expect(config.backup.sources).toEqual([]);
    expect(config.backup.id_prefix).toBe('backup');
    expect(config.backup.retry).toEqual({
      max_retries: 3,
      initial_delay: '1s',
      max_delay: '60s',
      backoff_factor: 2,
    });
    expect(config.backup.state_dir).toBe(join(dir, 'state', 'matric-backup'));
    expect(config.backup.spool_dir).toBe(join(dir, 'state', 'matric-backup', 'spool'));
    expect(config.backup.source_instance).toBe(hostname());
    expect(config.destinations[0]!.retention).toBeUndefined();

    const withoutXdg = await loadConfig({ file, env: { HOME: dir }, builtins: fakeBuiltins });
    const expected =
      process.getuid?.() === 0 ? '/var/lib/matric-backup' : join(dir, '.local', 'state', 'matric-backup');
    expect(withoutXdg.backup.state_dir).toBe(expected);
  });

  it('resolves relative paths against the config folder and ~/ against the home folder', async () => {
    const dir = await newDir();
    const file = await writeConfig(
      dir,
      `backup:
  state_dir: state
  spool_dir: ~/spool
  encryption: {enabled: true, recipients: [age1xyz], identity_file: keys/id.txt}
  sources:
    - {name: notes, type: directory, path: ../notes}
    - {name: db, type: command, command: [pg_dump], filename: db.dump, cwd: work}
    - {name: etc, type: directory, path: /etc}
    - {name: script, type: command, command: [./dump.sh], filename: out}
  destinations:
    - {name: disk, type: local, path: ./backups}
    - {name: nas, type: rsync, target: "nas:/x", ssh_key: ~/.ssh/id}
    - {name: share, type: smb, share: //srv/b, credentials_file: smb.creds}
`,
    );
    const config = await loadConfig({ file, env: { HOME: '/home/op' }, builtins: fakeBuiltins });
    expect(config.backup.state_dir).toBe(join(dir, 'state'));
    expect(config.backup.spool_dir).toBe('/home/op/spool');
    expect(config.backup.encryption?.identity_file).toBe(join(dir, 'keys/id.txt'));
    expect(config.backup.sources).toEqual([
      {
        name: 'notes',
        type: 'directory',
        path: join(dir, '..', 'notes'),
        on_error: 'warn',
        one_file_system: false,
      },
      { name: 'db', type: 'command', command: ['pg_dump'], filename: 'db.dump', cwd: join(dir, 'work') },
      { name: 'etc', type: 'directory', path: '/etc', on_error: 'warn', one_file_system: false },
      { name: 'script', type: 'command', command: ['./dump.sh'], filename: 'out', cwd: dir },
    ]);
    expect(config.destinations.map((d) => d.config)).toEqual([
      { path: join(dir, 'backups') },
      { target: 'nas:/x', ssh_key: '/home/op/.ssh/id' },
      { share: '//srv/b', credentials_file: join(dir, 'smb.creds') },
    ]);
  });

  it('merges a block retention over backup.retention, key by key', async () => {
    const config = await load(`backup:
  retention: {keep_daily: 7, min_backups: 3}
  destinations:
    - {name: disk, type: local, path: /b, retention: {keep_daily: 2, keep_yearly: 5}}
    - {name: other, type: local, path: /c}
`);
    expect(config.destinations[0]!.retention).toEqual({ keep_daily: 2, keep_yearly: 5, min_backups: 3 });
    expect(config.destinations[1]!.retention).toEqual({ keep_daily: 7, min_backups: 3 });
  });

  it('keeps required: false and enabled: false from the block', async () => {
    const config = await load(`backup:
  destinations:
    - {name: a, type: local, path: /a, required: false}
    - {name: b, type: local, path: /b, enabled: false}
`);
    expect(config.destinations.map((d) => [d.enabled, d.required])).toEqual([
      [true, false],
      [false, true],
    ]);
  });

  it('accepts YAML anchors and << merge keys for shared destination settings', async () => {
    const config = await load(`backup:
  destinations:
    - &s3 {name: eu, type: s3, bucket: shared, region: eu-west-1}
    - <<: *s3
      name: us
      region: us-east-1
`);
    expect(config.destinations.map((d) => [d.name, d.config])).toEqual([
      ['eu', { bucket: 'shared', region: 'eu-west-1' }],
      ['us', { bucket: 'shared', region: 'us-east-1' }],
    ]);
  });
});
