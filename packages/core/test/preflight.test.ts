import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError } from '@matric-backup/plugin-api';
import { describe, expect, it } from 'vitest';
import { findExecutable } from '../src/preflight/find-executable.js';
import { preflight } from '../src/preflight/preflight.js';
import { loaderIn, tempDirs } from './fixtures/config/temp.js';

const newDir = tempDirs();
const { load } = loaderIn(newDir);

describe('findExecutable', () => {
  it('looks a bare name up in PATH in order, and a name with a slash up from cwd', async () => {
    const dir = await newDir();
    await mkdir(join(dir, 'a'));
    await mkdir(join(dir, 'b'));
    await writeFile(join(dir, 'a/tool'), 'not executable');
    await writeFile(join(dir, 'b/tool'), '#!/bin/sh\n');
    await chmod(join(dir, 'b/tool'), 0o755);
    const path = `${join(dir, 'a')}:${join(dir, 'b')}`;
    expect(await findExecutable('tool', dir, path)).toBe(join(dir, 'b/tool'));
    expect(await findExecutable('tool', dir, join(dir, 'a'))).toBeUndefined();
    expect(await findExecutable('./b/tool', dir, '')).toBe(join(dir, 'b/tool'));
    expect(await findExecutable('./a/tool', dir, path)).toBeUndefined();
    // An empty PATH entry is the current folder, as in the shell.
    expect(await findExecutable('tool', join(dir, 'b'), ':/nonexistent')).toBe(join(dir, 'b/tool'));
  });
});

describe('preflight', () => {
  it('lists every problem at once, in file order, with key path and line', async () => {
    const config = await load(`backup:
  sources:
    - {name: gone, type: directory, path: ./missing}
    - {name: db, type: command, command: [no-such-program-xyz], filename: db.sql}
  encryption:
    enabled: true
    recipients: [age1qqqq]
  destinations:
    - {name: a, type: local, path: /a}
`);
    const error = await preflight(config, { scope: 'full', env: { PATH: '/usr/bin:/bin' } }).catch((e) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).issues.map(({ path, line }) => ({ path, line }))).toEqual([
      { path: 'backup.sources[gone].path', line: 3 },
      { path: 'backup.sources[db].command[0]', line: 4 },
      { path: 'backup.encryption.recipients[0]', line: 7 },
    ]);
    // A run checks only the encryption: the sources are its own to report.
    const run = await preflight(config, { scope: 'encryption' }).catch((e) => e);
    expect((run as ConfigError).issues.map(({ path }) => path)).toEqual(['backup.encryption.recipients[0]']);
  });

  it('passes a config whose sources exist and whose encryption is off', async () => {
    const dir = await newDir();
    await mkdir(join(dir, 'data'));
    const config = await load(
      `backup:
  sources:
    - {name: data, type: directory, path: ./data}
    - {name: db, type: command, command: [sh, -c, "echo hi"], filename: db.sql}
  destinations:
    - {name: a, type: local, path: /a}
`,
      { dir },
    );
    await expect(
      preflight(config, { scope: 'full', env: { PATH: '/usr/bin:/bin' } }),
    ).resolves.toBeUndefined();
  });
});
