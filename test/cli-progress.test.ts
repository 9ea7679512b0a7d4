import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI_BIN, runCli, tempDir } from './helpers/cli.js';
import { writeConfig } from './helpers/config.js';

const execFileAsync = promisify(execFile);
/** cli-progress draws its bars with these block characters. */
const BAR = /[\u2588\u2591]{10,}/;

/** Runs the CLI on a pseudo-terminal (util-linux `script`), as a person at a shell would. */
async function runOnTty(args: string[]): Promise<string> {
  const command = [process.execPath, CLI_BIN, ...args].map((arg) => `'${arg}'`).join(' ');
  const { stdout } = await execFileAsync('script', ['-qec', command, '/dev/null'], {
    env: { ...process.env, NO_COLOR: '1', COLUMNS: '120' },
    maxBuffer: 16 * 1024 * 1024,
  });
  return stdout;
}

describe('progress output', () => {
  let work: Awaited<ReturnType<typeof tempDir>>;
  let config: string;

  beforeAll(async () => {
    work = await tempDir();
    await mkdir(join(work.path, 'data'));
    await writeFile(join(work.path, 'data/blob.bin'), Buffer.alloc(4 * 1024 * 1024, 7));
    config = await writeConfig(work.path, {
      sources: [{ name: 'data', type: 'directory', path: join(work.path, 'data') }],
      destinations: [
        { name: 'first', type: 'local', path: join(work.path, 'first') },
        { name: 'second', type: 'local', path: join(work.path, 'second') },
      ],
    });
  });
  afterAll(() => work.cleanup());

  it('on a terminal: an archive line and a bar per destination with bytes and percentage', async () => {
    const output = await runOnTty(['run', '-c', config]);
    expect(output).toMatch(/archive\s+1 file\s+4\.0 MiB read/);
    for (const name of ['first', 'second']) {
      expect(output).toMatch(new RegExp(`${name}\\s+${BAR.source} 100%\\s+\\S+ \\S+ / \\S+ \\S+`));
    }
    expect(output).toMatch(/shard backup_\d{8}_\d{6}/);
  });

  it('with --json on a terminal: no bars, only the summary', async () => {
    const output = await runOnTty(['run', '-c', config, '--json']);
    expect(output).not.toMatch(BAR);
    expect(JSON.parse(output).status).toBe('success');
  });

  it('without a terminal: no bars and nothing on stderr', async () => {
    const run = await runCli(['run', '-c', config]);
    expect(run.code).toBe(0);
    expect(run.stderr).toBe('');
    expect(run.stdout).not.toMatch(BAR);
  });
});
