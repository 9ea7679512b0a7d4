import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBackup } from '../src/run/run.js';
import { setupRun, type TestSetup } from './fixtures/run/config.js';

const NOBODY = '65534';
const RUNS = 20;

/** Swaps two names with renameat2(RENAME_EXCHANGE) until SIGTERM (or `seconds`); prints the count. */
const SWAPPER = `
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
static volatile sig_atomic_t stop = 0;
static void on_term(int signal) { stop = signal; }
int main(int argc, char **argv) {
  time_t end = time(NULL) + atoi(argv[3]);
  long swaps = 0;
  signal(SIGTERM, on_term);
  while (!stop && time(NULL) < end)
    if (syscall(SYS_renameat2, AT_FDCWD, argv[1], AT_FDCWD, argv[2], 2 /* RENAME_EXCHANGE */) == 0) {
      swaps++;
      usleep(100); /* the runs get the CPU too, and each of their steps still meets swaps */
    }
  printf("%ld\\n", swaps);
  return 0;
}
`;

/**
 * A user owns a folder that root backs up and keeps swapping a subfolder with a
 * symbolic link to a root-only folder while root's runs walk it (the runs are
 * this process, as root). The walk holds each folder open and reaches children
 * through that descriptor with O_NOFOLLOW: no run may store a root-only byte.
 */
describe.runIf(process.getuid?.() === 0)('a folder swapped for a symlink while the run walks it', () => {
  let setup: TestSetup;
  let shared: string;
  let swapper: string;
  const marker = `ROOT-ONLY-${randomBytes(16).toString('hex')}`;

  beforeAll(async () => {
    setup = await setupRun({
      sources: (dir) => [{ name: 'shared', type: 'directory', path: join(dir, 'shared') }],
      backup: { retention: { keep_last: 100 } },
    });
    const { dir } = setup;
    await chmod(dir, 0o755);
    const secret = join(dir, 'secret');
    await mkdir(secret, { mode: 0o700 });
    for (let i = 0; i < 50; i++) await writeFile(join(secret, `s${i}.txt`), `${marker}\n`, { mode: 0o600 });
    shared = join(dir, 'shared');
    await mkdir(join(shared, 'sub'), { recursive: true });
    for (let i = 0; i < 100; i++) await writeFile(join(shared, 'sub', `f${i}.txt`), `user file ${i}\n`);
    await symlink(secret, join(shared, 'link'));
    execFileSync('chown', ['-R', '-h', `${NOBODY}:${NOBODY}`, shared]);
    swapper = join(dir, 'swapper');
    await writeFile(`${swapper}.c`, SWAPPER);
    execFileSync('cc', ['-O2', '-o', swapper, `${swapper}.c`]);
    await chmod(swapper, 0o755);
  });
  afterAll(() => setup.cleanup());

  it(`${RUNS} root runs while nobody swaps: no root-only byte in any shard`, async () => {
    const race: ChildProcess = spawn(
      'setpriv',
      ['--reuid', NOBODY, '--regid', NOBODY, '--clear-groups', swapper, 'sub', 'link', '120'],
      { cwd: shared, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let swaps = '';
    race.stdout!.on('data', (chunk: Buffer) => (swaps += chunk));
    const ended = new Promise((resolve) => race.on('close', resolve));
    const statuses: string[] = [];
    try {
      for (let run = 0; run < RUNS; run++) {
        const summary = await runBackup(setup.config, { now: new Date(Date.UTC(2026, 0, 1, 0, 0, run)) });
        statuses.push(summary.status);
        if (summary.error) throw new Error(`run ${run}: ${summary.error.message}`);
      }
    } finally {
      race.kill('SIGTERM');
      await ended;
    }

    const archives = [...setup.store('primary').objects].filter(([key]) => key.endsWith('.tar.zst'));
    expect(archives).toHaveLength(RUNS);
    const leaked = archives
      .filter(([, object]) =>
        execFileSync('zstd', ['-dc'], { input: object.bytes, maxBuffer: 64 << 20 }).includes(marker),
      )
      .map(([key]) => key);
    expect(leaked).toEqual([]);
    expect(statuses.every((status) => status === 'success' || status === 'warning')).toBe(true);
    // The race really ran while the runs walked.
    expect(Number(swaps)).toBeGreaterThan(100);
  }, 120_000);
});
