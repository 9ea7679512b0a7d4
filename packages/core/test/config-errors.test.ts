// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${VAR} is backup.yaml syntax in these strings, not a template.
import { describe, expect, it } from 'vitest';
import { loaderIn, tempDirs } from './fixtures/config/temp.js';

const { fail } = loaderIn(tempDirs());

const where = (error: { issues: Array<{ path: string; line?: number; column?: number }> }) =>
  error.issues.map(({ path, line, column }) => ({ path, line, column }));

describe('loadConfig: errors name the key path, line and column', () => {
  it('an unknown key, at its own line', async () => {
    const error = await fail(`backup:
  compression:
    algorithm: zstd
    levle: 3
  destinations:
    - {name: a, type: local, path: /a}
`);
    expect(error.code).toBe('CONFIG_INVALID');
    expect(where(error)).toEqual([{ path: 'backup.compression.levle', line: 4, column: 5 }]);
    expect(error.issues[0]!.message).toBe('unknown key "levle"; did you mean "level"?');
    expect(error.message).toContain('backup.yaml:4:5: backup.compression.levle: unknown key "levle"');
  });

  it('backup.format, removed: says so and what to do, at its line', async () => {
    const error = await fail(`backup:
  format:
    include_original: true
  destinations:
    - {name: a, type: local, path: /a}
`);
    expect(where(error)).toEqual([{ path: 'backup.format', line: 2, column: 3 }]);
    expect(error.issues[0]!.message).toMatch(/^`backup.format` was removed: .*delete the block$/);
  });

  it('backup.incremental: each bad value at its own key path and line', async () => {
    const error = await fail(`backup:
  incremental:
    full_every: 0s
    max_chain: 0
    compare: hash
  destinations:
    - {name: a, type: local, path: /a}
`);
    expect(where(error)).toEqual([
      { path: 'backup.incremental.full_every', line: 3, column: 5 },
      { path: 'backup.incremental.max_chain', line: 4, column: 5 },
      { path: 'backup.incremental.compare', line: 5, column: 5 },
    ]);
    expect(error.message).toContain('a duration above zero');
  });

  it('an unknown key in a destination block, checked by the plugin schema', async () => {
    const error = await fail(`backup:
  destinations:
    - name: a
      type: local
      path: /a
    - name: offsite
      type: s3
      bucket: b
      bukcet: c
`);
    expect(where(error)).toEqual([{ path: 'backup.destinations[offsite].bukcet', line: 9, column: 7 }]);
  });

  it('a wrong type, naming the key and both types', async () => {
    const error = await fail(`backup:
  compression:
    level: high
  retention:
    keep_daily: [7]
  destinations:
    - name: a
      type: local
      path: /a
      enabled: "yes"
`);
    expect(where(error)).toEqual([
      { path: 'backup.compression.level', line: 3, column: 5 },
      { path: 'backup.retention.keep_daily', line: 5, column: 5 },
      { path: 'backup.destinations[a].enabled', line: 10, column: 7 },
    ]);
    expect(error.issues.map((issue) => issue.message)).toEqual([
      'expected a number, found a string',
      'expected a number, found a list',
      'expected true or false, found a string',
    ]);
  });

  it('a missing required key, at the line of its parent mapping', async () => {
    const error = await fail(`backup:
  sources:
    - name: notes
      type: directory
  destinations:
    - name: a
      type: local
    - name: offsite
      type: s3
      region: eu
`);
    expect(where(error)).toEqual([
      { path: 'backup.sources[notes].path', line: 3, column: 7 },
      { path: 'backup.destinations[a].path', line: 6, column: 7 },
      { path: 'backup.destinations[offsite].bucket', line: 8, column: 7 },
    ]);
    expect(error.issues[2]!.message).toBe('required key missing (expected a string)');
  });

  it('no destinations, or no backup key at all', async () => {
    expect(where(await fail('backup:\n  destinations: []\n'))).toEqual([
      { path: 'backup.destinations', line: 2, column: 3 },
    ]);
    const empty = await fail('# nothing yet\n');
    expect(empty.issues).toHaveLength(1);
    expect(empty.issues[0]!.path).toBe('');
    const other = await fail('backups:\n  destinations: []\n');
    expect(where(other)).toEqual([
      { path: 'backup', line: 1, column: 1 },
      { path: 'backups', line: 1, column: 1 },
    ]);
  });

  it('a destination block that is not a mapping, or has a bad name, is reported by the block check alone', async () => {
    const error = await fail(`backup:
  destinations:
    - just-a-string
    - {name: "bad name!", type: local, path: /a}
`);
    expect(where(error)).toEqual([
      { path: 'backup.destinations[0]', line: 3, column: 7 },
      { path: 'backup.destinations[1].name', line: 4, column: 8 },
    ]);
    expect(error.issues.map((issue) => issue.message)).toEqual([
      'expected a mapping with at least name and type',
      'letters, digits, . _ -',
    ]);
  });

  it('an unset ${VAR}, saying which variable and how to set it', async () => {
    const error = await fail(
      `backup:
  destinations:
    - name: offsite
      type: s3
      bucket: \${S3_BUCKET}
`,
    );
    expect(where(error)).toEqual([{ path: 'backup.destinations[offsite].bucket', line: 5, column: 7 }]);
    expect(error.issues[0]!.message).toMatch(/S3_BUCKET is not set/);
    expect(error.issues[0]!.message).toContain('export S3_BUCKET=');
    expect(error.issues[0]!.message).toContain('${S3_BUCKET:-default}');
  });

  it('a YAML syntax error, with its line and column', async () => {
    const error = await fail(`backup:
  destinations:
    - name: a
      type: local
     path: /a
`);
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.issues.length).toBeGreaterThan(0);
    expect(error.issues[0]!.line).toBe(5);
    expect(error.issues[0]!.column).toBeTypeOf('number');
    expect(error.issues[0]!.message).toMatch(/^YAML syntax error/);
  });

  it('a duplicate key is a YAML error at the second one', async () => {
    const error = await fail(`backup:
  destinations:
    - {name: a, type: local, path: /a}
  destinations: []
`);
    expect(error.issues[0]!.line).toBe(4);
  });

  it('reports every problem at once, in file order', async () => {
    const error = await fail(`backup:
  id_prefix: "bad_prefix"
  sources:
    - {name: db, type: command, command: [pg_dump], filename: a/b}
    - {name: db, type: directory, path: /x}
  destinations:
    - {name: a, type: local, path: /a}
    - {name: a, type: ftp}
    - {name: c, type: local, path: /c, retention: {keep_dialy: 3}}
`);
    expect(where(error)).toEqual([
      { path: 'backup.id_prefix', line: 2, column: 3 },
      { path: 'backup.sources[0].filename', line: 4, column: 53 },
      { path: 'backup.destinations[1].name', line: 8, column: 8 },
      { path: 'backup.destinations[1].type', line: 8, column: 17 },
      { path: 'backup.destinations[c].retention.keep_dialy', line: 9, column: 52 },
    ]);
  });

  it('duplicate source names, once the rest is valid', async () => {
    const error = await fail(`backup:
  sources:
    - {name: db, type: directory, path: /x}
    - {name: db, type: directory, path: /y}
  destinations:
    - {name: a, type: local, path: /a}
`);
    expect(where(error)).toEqual([{ path: 'backup.sources[1].name', line: 4, column: 8 }]);
    expect(error.issues[0]!.message).toBe('duplicate source name "db" (also backup.sources[0])');
  });

  it('an unknown source type lists the known ones', async () => {
    const error = await fail(`backup:
  sources:
    - {name: db, type: mysql}
  destinations:
    - {name: a, type: local, path: /a}
`);
    expect(error.issues).toEqual([
      {
        path: 'backup.sources[db].type',
        line: 3,
        column: 18,
        message: 'must be one of "directory", "command"',
      },
    ]);
  });

  it('an unknown destination type says what is built in and which packages were tried', async () => {
    const error = await fail(`backup:
  destinations:
    - {name: a, type: local, path: /a}
    - name: b
      type: webdav
      host: x
`);
    expect(where(error)).toEqual([{ path: 'backup.destinations[b].type', line: 5, column: 7 }]);
    const { message } = error.issues[0]!;
    expect(message).toContain('unknown destination type "webdav"');
    expect(message).toContain('built in: local, s3, sftp, rsync, smb');
    expect(message).toContain('matric-backup-plugin-webdav');
    expect(message).toContain('@matric-backup/plugin-webdav');
    expect(error.hint).toContain('npm install matric-backup-plugin-webdav');
  });

  it('validates disabled destinations too', async () => {
    const error = await fail(`backup:
  destinations:
    - {name: a, type: local, path: /a}
    - {name: b, type: s3, enabled: false}
`);
    expect(where(error)).toEqual([{ path: 'backup.destinations[b].bucket', line: 4, column: 7 }]);
  });

  it('checks the compression level against the algorithm', async () => {
    const error = await fail(`backup:
  compression:
    algorithm: gzip
    level: 12
  destinations:
    - {name: a, type: local, path: /a}
`);
    expect(error.issues).toEqual([
      { path: 'backup.compression.level', line: 4, column: 5, message: 'gzip levels go from 1 to 9' },
    ]);
  });

  it('an unknown retention time zone, at its line', async () => {
    const error = await fail(`backup:
  retention:
    keep_daily: 7
    timezone: Mars/Olympus
  destinations:
    - {name: a, type: local, path: /a}
`);
    expect(where(error)).toEqual([{ path: 'backup.retention.timezone', line: 4, column: 5 }]);
    expect(error.issues[0]!.message).toContain('IANA time zone');
  });

  it('a policy that keeps nothing, at its zero rule, in backup.retention and in a block', async () => {
    const error = await fail(`backup:
  retention:
    keep_last: 0
    keep_daily: 0
  destinations:
    - name: a
      type: local
      path: /a
    - name: b
      type: local
      path: /b
      retention:
        min_backups: 2
    - name: c
      type: local
      path: /c
      retention:
        keep_weekly: 0
`);
    // b keeps its 2 newest; c merges to keep_last 0, keep_daily 0, keep_weekly 0: nothing.
    expect(where(error)).toEqual([
      { path: 'backup.retention.keep_last', line: 3, column: 5 },
      { path: 'backup.destinations[c].retention.keep_weekly', line: 18, column: 9 },
    ]);
    expect(error.issues[0]!.message).toMatch(/keeps no shard: keep_last is 0/);
  });

  it('a block that keeps nothing only because of what it inherits points at the block', async () => {
    const error = await fail(`backup:
  retention: {keep_last: 0, min_backups: 3}
  destinations:
    - name: a
      type: local
      path: /a
      retention: {min_backups: 0}
`);
    expect(where(error)).toEqual([{ path: 'backup.destinations[a].retention', line: 7, column: 7 }]);
    expect(error.issues[0]!.message).toMatch(/keep_last is 0 \(from backup\.retention\)/);
  });

  it('backup.schedule: interval beside another schedule, a bad duration, at their lines', async () => {
    const error = await fail(`backup:
  schedule:
    interval: 24h
    cron: "0 2 * * *"
    random_delay: soon
  destinations:
    - {name: a, type: local, path: /a}
`);
    expect(where(error)).toEqual([
      { path: 'backup.schedule.cron', line: 4, column: 5 },
      { path: 'backup.schedule.random_delay', line: 5, column: 5 },
    ]);
    expect(error.issues[0]!.message).toBe('`cron` and `interval` are two schedules: keep one of them');
    expect(error.issues[1]!.message).toMatch(/a duration like/);
  });

  it('backup.api: a TCP address that is not host:port, an unknown key, a root that is not a list, at their lines', async () => {
    const error = await fail(`backup:
  api:
    listen: 8787
    token: abc
    restore_roots: /srv/restore
  destinations:
    - {name: a, type: local, path: /a}
`);
    expect(where(error)).toEqual([
      { path: 'backup.api.listen', line: 3, column: 5 },
      { path: 'backup.api.token', line: 4, column: 5 },
      { path: 'backup.api.restore_roots', line: 5, column: 5 },
    ]);
  });
});
