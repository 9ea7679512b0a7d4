import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { planSchedule } from '../src/serve/schedule-plan.js';
import { daemonUnits, timerUnits, type Unit, type UnitInput } from '../src/systemd/units.js';

const input: UnitInput = {
  name: 'mb-test',
  configName: 'notes',
  // A config path systemd would otherwise split (space), expand (%) or substitute ($).
  configFile: '/etc/matric backup/100%$HOME.yaml',
  bin: '/bin/true',
  path: '/opt/node/bin:/usr/bin:/bin',
  writable: ['/srv/state dir'],
  writableIfPresent: ['/mnt/usb/matric'],
  user: 'matric-backup',
};

/** Writes the units and runs `systemd-analyze verify` on them: its exit code and what it said about them. */
async function verify(units: Unit[]) {
  const dir = await mkdtemp(join(tmpdir(), 'mb-units-'));
  onTestFinished(() => rm(dir, { recursive: true, force: true }));
  const files = await Promise.all(
    units.map(async (unit) => {
      const file = join(dir, unit.file);
      await writeFile(file, unit.text);
      return file;
    }),
  );
  const result = spawnSync('systemd-analyze', ['verify', ...files], { encoding: 'utf8' });
  return { code: result.status, said: result.stderr.split('\n').filter((line) => line.includes(dir)) };
}

describe('systemd units', () => {
  it('an interval timer: from boot, then after each run; accepted by systemd-analyze', async () => {
    const units = timerUnits(input, planSchedule({ interval: '6h', random_delay: '90s' }));
    expect(await verify(units)).toEqual({ code: 0, said: [] });
    const timer = units.find((unit) => unit.file === 'mb-test.timer')!.text;
    expect(timer).toMatch(/^OnBootSec=21600$/m);
    expect(timer).toMatch(/^OnUnitActiveSec=21600$/m);
    expect(timer).toMatch(/^RandomizedDelaySec=90$/m);
    expect(timer).not.toMatch(/Persistent=/);
  });

  it('quotes and escapes the config path, and refuses a schedule that runs nothing', async () => {
    const [service] = daemonUnits(input);
    expect(await verify([service!])).toEqual({ code: 0, said: [] });
    expect(service!.text).toContain('ExecStart=/bin/true serve -c "/etc/matric backup/100%%$$HOME.yaml"');
    expect(service!.text).toContain('ReadWritePaths="/srv/state dir" -/mnt/usb/matric');
    expect(() => timerUnits(input, planSchedule({ interval: 0 }))).toThrow(/sets no schedule/);
  });
});
