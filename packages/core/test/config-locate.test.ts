import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { locateConfig, MatricError } from '@matric-backup/core';
import { describe, expect, it } from 'vitest';
import { tempDirs } from './fixtures/config/temp.js';

const newDir = tempDirs();

async function layout() {
  const root = await newDir();
  const files = {
    explicit: join(root, 'explicit.yaml'),
    fromEnv: join(root, 'env.yaml'),
    cwd: join(root, 'work', 'backup.yaml'),
    home: join(root, 'home', '.config', 'matric-backup', 'backup.yaml'),
  };
  for (const file of Object.values(files)) {
    await mkdir(join(file, '..'), { recursive: true });
    await writeFile(file, 'backup: {}\n');
  }
  return { root, files, cwd: join(root, 'work'), env: { HOME: join(root, 'home') } };
}

function usageError(run: () => unknown): MatricError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(MatricError);
    expect((error as MatricError).code).toBe('USAGE');
    return error as MatricError;
  }
  throw new Error('expected a USAGE error');
}

describe('locateConfig', () => {
  it('takes -c first, relative to cwd', async () => {
    const { cwd, env, files } = await layout();
    expect(
      locateConfig({ file: '../explicit.yaml', cwd, env: { ...env, MATRIC_BACKUP_CONFIG: files.fromEnv } }),
    ).toBe(files.explicit);
  });

  it('then $MATRIC_BACKUP_CONFIG, then ./backup.yaml, then ~/.config/matric-backup/backup.yaml', async () => {
    const { root, cwd, env, files } = await layout();
    expect(locateConfig({ cwd, env: { ...env, MATRIC_BACKUP_CONFIG: files.fromEnv } })).toBe(files.fromEnv);
    expect(locateConfig({ cwd, env })).toBe(files.cwd);
    expect(locateConfig({ cwd: root, env })).toBe(files.home);
    const xdg = join(root, 'xdg');
    await mkdir(join(xdg, 'matric-backup'), { recursive: true });
    await writeFile(join(xdg, 'matric-backup', 'backup.yaml'), '');
    expect(locateConfig({ cwd: root, env: { ...env, XDG_CONFIG_HOME: xdg } })).toBe(
      join(xdg, 'matric-backup', 'backup.yaml'),
    );
  });

  it('does not fall through past a file named explicitly that is missing', async () => {
    const { cwd, env } = await layout();
    expect(usageError(() => locateConfig({ file: 'nope.yaml', cwd, env })).message).toBe(
      `config file ${join(cwd, 'nope.yaml')} (from -c) does not exist or is not a file`,
    );
    expect(
      usageError(() => locateConfig({ cwd, env: { ...env, MATRIC_BACKUP_CONFIG: cwd } })).message,
    ).toContain('(from $MATRIC_BACKUP_CONFIG)');
  });

  it('lists every place it tried when there is no config', async () => {
    const root = await newDir();
    const error = usageError(() => locateConfig({ cwd: root, env: { HOME: root } }));
    expect(error.message).toBe(
      `no config file found; tried -c, $MATRIC_BACKUP_CONFIG, ${join(root, 'backup.yaml')}, ` +
        `${join(root, '.config', 'matric-backup', 'backup.yaml')}, /etc/matric-backup/backup.yaml`,
    );
    expect(error.hint).toContain('matric-backup init');
  });
});
