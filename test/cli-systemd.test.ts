import { spawnSync } from 'node:child_process';
import { mkdir, readFile, realpath, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI_BIN, runCli, tempDir } from './helpers/cli.js';
import { writeConfig } from './helpers/config.js';

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** `systemd-analyze verify`: exit 0 and not a word about our files (it only warns about ignored settings). */
function verify(files: string[]) {
  const result = spawnSync('systemd-analyze', ['verify', ...files], { encoding: 'utf8' });
  const ours = result.stderr.split('\n').filter((line) => files.some((file) => line.includes(file)));
  return { code: result.status, complaints: ours };
}

let dir: string;
let cleanup: () => Promise<void>;
let config: string;

beforeAll(async () => {
  // Below /tmp, which the units' PrivateTmp= would hide: the command warns about it.
  ({ path: dir, cleanup } = await tempDir('mb-systemd-'));
  const home = join(dir, 'configs with space');
  await mkdir(join(home, 'data'), { recursive: true });
  await mkdir(join(dir, 'dest'));
  config = await writeConfig(home, {
    name: 'web',
    sources: [{ name: 'data', type: 'directory', path: './data' }],
    destinations: [
      { name: 'primary', type: 'local', path: join(dir, 'dest') },
      { name: 'usb', type: 'local', path: join(dir, 'not-mounted/matric'), required: false },
      {
        name: 'offsite',
        type: 's3',
        bucket: 'b',
        endpoint: 'http://127.0.0.1:9',
        region: 'us-east-1',
        access_key_id: 'AKIAEXAMPLE',
        secret_access_key: 'never-printed-secret-0123456789',
      },
    ],
    schedule: {
      full_backup: 'weekly',
      day_of_week: 'sunday',
      time: '03:15',
      timezone: 'Europe/Berlin',
      random_delay: '5m',
    },
  });
});
afterAll(() => cleanup());

describe('matric-backup systemd', () => {
  it('--install writes a timer and a hardened oneshot service that systemd-analyze accepts; again: unchanged; edited: refused', async () => {
    const units = join(dir, 'units');
    const installed = await runCli(['systemd', '--install', '--unit-dir', units, '-c', config]);
    expect(installed.stderr).toMatch(/is in \/tmp, which the unit replaces/);
    expect(installed.code).toBe(0);
    expect(installed.stdout).toContain(`wrote ${join(units, 'matric-backup.service')}`);
    expect(installed.stdout).toContain(
      'next: systemctl daemon-reload && systemctl enable --now matric-backup.timer',
    );
    expect(installed.stdout).toContain(`not there now: ${join(dir, 'not-mounted/matric')}`);
    const service = await readFile(join(units, 'matric-backup.service'), 'utf8');
    const timer = await readFile(join(units, 'matric-backup.timer'), 'utf8');
    expect(verify([join(units, 'matric-backup.service'), join(units, 'matric-backup.timer')])).toEqual({
      code: 0,
      complaints: [],
    });

    const bin = await realpath(CLI_BIN);
    expect(service).toContain(`ExecStart=${bin} run -c "${await realpath(config)}"`);
    expect(service).toMatch(/^Type=oneshot$/m);
    for (const line of [
      'ProtectSystem=strict',
      'PrivateTmp=true',
      'NoNewPrivileges=true',
      'ProtectHome=read-only',
    ])
      expect(service).toMatch(new RegExp(`^${escapeRegExp(line)}$`, 'm'));
    // The state folder (with its spool), and the local destinations, which may be absent at start (a disk not mounted).
    const state = join(dir, 'configs with space/state');
    expect(service).toMatch(
      new RegExp(
        `^ReadWritePaths=${escapeRegExp(`"${state}" -${join(dir, 'dest')} -${join(dir, 'not-mounted/matric')}`)}$`,
        'm',
      ),
    );
    expect((await stat(join(dir, 'configs with space/state'))).isDirectory()).toBe(true);
    await expect(stat(join(dir, 'not-mounted'))).rejects.toThrow(/ENOENT/);
    expect(timer).toMatch(/^OnCalendar=Sun \*-\*-\* 03:15:00 Europe\/Berlin$/m);
    expect(timer).toMatch(/^RandomizedDelaySec=300$/m);
    expect(timer).toMatch(/^Persistent=true$/m);
    expect(service + timer).not.toContain('never-printed-secret');

    const again = await runCli(['systemd', '--install', '--unit-dir', units, '-c', config]);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain(`unchanged ${join(units, 'matric-backup.timer')}`);
    await writeFile(join(units, 'matric-backup.timer'), `${timer}# local edit\n`);
    const refused = await runCli(['systemd', '--install', '--unit-dir', units, '-c', config]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(
      `${join(units, 'matric-backup.timer')} already exists with other content`,
    );
    expect(refused.stderr).toContain('--force');
    expect(await readFile(join(units, 'matric-backup.timer'), 'utf8')).toContain('# local edit');
  });

  it('--daemon prints the serve service with its runtime folder and a dedicated user; systemd-analyze accepts it', async () => {
    const printed = await runCli([
      'systemd',
      '--daemon',
      '--user',
      'matric-backup',
      '--name',
      'mb-web',
      '-c',
      config,
    ]);
    expect(printed.code).toBe(0);
    expect(printed.stdout.split('\n')[0]).toBe('# /etc/systemd/system/mb-web.service');
    const file = join(dir, 'mb-web.service');
    await writeFile(file, printed.stdout);
    expect(verify([file])).toEqual({ code: 0, complaints: [] });
    expect(printed.stdout).toContain(
      `ExecStart=${await realpath(CLI_BIN)} serve -c "${await realpath(config)}"`,
    );
    for (const line of [
      'Type=simple',
      'RuntimeDirectory=mb-web',
      'User=matric-backup',
      'ExecReload=/bin/kill -HUP $MAINPID',
    ])
      expect(printed.stdout).toMatch(new RegExp(`^${escapeRegExp(line)}$`, 'm'));
  });

  it('--user nobody is refused: a shared account is not a dedicated one', async () => {
    const result = await runCli(['systemd', '--daemon', '--user', 'nobody', '-c', config]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--user nobody: not a dedicated user');
  });

  it('a config without a schedule gets no timer: exit 2 with what to do', async () => {
    const bare = join(dir, 'bare.yaml');
    await writeFile(
      bare,
      `backup:\n  state_dir: ./state\n  destinations:\n    - {name: a, type: local, path: ./a}\n`,
    );
    const result = await runCli(['systemd', '-c', bare]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('backup.schedule sets no schedule');
    expect(result.stderr).toMatch(/hint: set backup\.schedule .* or use --daemon/);
  });
});
