import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { lstat, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createRunSpool } from '../src/run/run-spool.js';
import { startTimeOf } from '../src/util/process-identity.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mb-spool-'));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

async function deadPid(): Promise<number> {
  const child = spawn('true');
  await once(child, 'exit');
  return child.pid!;
}

describe('run spool folders', () => {
  it('gives each run a 0700 folder of its own and removes only that one', async () => {
    const spoolDir = join(dir, 'spool');
    const one = await createRunSpool(spoolDir);
    const two = await createRunSpool(spoolDir);
    expect(one.dir).not.toBe(two.dir);
    expect((await lstat(one.dir)).mode & 0o777).toBe(0o700);
    await writeFile(join(two.dir, 'shard.partial'), 'x');
    one.remove();
    expect(await readdir(spoolDir)).toEqual([two.dir.slice(spoolDir.length + 1)]);
    two.remove();
    two.remove();
    expect(await readdir(spoolDir)).toEqual([]);
  });

  it('removes the folders of runs that are gone, keeps live ones and anything it did not make', async () => {
    const spoolDir = join(dir, 'spool');
    const dead = join(spoolDir, `run-${await deadPid()}-123-abcd`);
    const reused = join(spoolDir, `run-${process.pid}-${Number(startTimeOf(process.pid)) - 1}-abcd`);
    const live = join(spoolDir, `run-${process.pid}-${startTimeOf(process.pid)}-abcd`);
    const foreign = join(spoolDir, 'backup_20260101_000000.tar.zst');
    for (const folder of [dead, reused, live]) await mkdir(folder, { recursive: true });
    await writeFile(join(dead, 'leftover.partial'), 'x');
    await writeFile(foreign, 'x');
    const spool = await createRunSpool(spoolDir);
    expect(existsSync(dead)).toBe(false);
    expect(existsSync(reused)).toBe(false);
    expect(existsSync(live)).toBe(true);
    expect(existsSync(foreign)).toBe(true);
    spool.remove();
  });
});
