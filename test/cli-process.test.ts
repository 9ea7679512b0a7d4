import { existsSync, readdirSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, tempDir } from './helpers/cli.js';
import { filesUnder, writeConfig } from './helpers/config.js';

const STACK_LINE = /^\s+at /m;

let work: Awaited<ReturnType<typeof tempDir>>;
let data: string;
let n = 0;

beforeAll(async () => {
  work = await tempDir('mb-e2e-process-');
  data = join(work.path, 'data');
  await mkdir(data);
  await writeFile(join(data, 'a.txt'), 'alpha\n');
});
afterAll(async () => {
  await work?.cleanup();
});

async function freshDir(): Promise<string> {
  const dir = join(work.path, `case-${++n}`);
  await mkdir(dir);
  return dir;
}

const entriesOf = (dir: string) => (existsSync(dir) ? readdirSync(dir) : []);

describe('a command source that hangs', () => {
  it('sh -c "sleep 1000" with timeout 2s: the whole group is stopped, exit 1 within seconds, lock released', async () => {
    const dir = await freshDir();
    const disk = join(dir, 'disk');
    const config = await writeConfig(dir, {
      sources: [
        { name: 'hung', type: 'command', command: ['sh', '-c', 'sleep 1000'], filename: 'x', timeout: '2s' },
      ],
      destinations: [{ name: 'disk', type: 'local', path: disk }],
    });
    // Killed (and so failing the exit code check) if the run still waits for the sleep after 10 s.
    const result = await runCli(['run', '-c', config], { timeoutMs: 10_000 });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('was still running after its timeout of 2s and was stopped');
    expect(result.stderr).not.toMatch(STACK_LINE);
    expect(entriesOf(join(dir, 'state')).filter((name) => name.endsWith('.lock'))).toEqual([]);
    expect(await filesUnder(disk)).toEqual([]);
  });
});
