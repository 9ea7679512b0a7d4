import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { listShards, loadConfig, openDestination, runBackup, selectDestinations } from '@matric-backup/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { builtinPlugins } from '../src/builtins.js';
import { deleteBackup } from '../src/operations/delete.js';

let dir: string;
let configFile: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mb-delete-lock-'));
  await mkdir(join(dir, 'data'), { recursive: true });
  await writeFile(join(dir, 'data/a.txt'), 'alpha\n');
  configFile = join(dir, 'backup.yaml');
  await writeFile(
    configFile,
    `backup:
  name: delete-lock
  source_instance: testhost
  state_dir: ./state
  sources:
    - {name: data, type: directory, path: ./data}
  destinations:
    - {name: here, type: local, path: ./here}
`,
  );
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const load = () => loadConfig({ file: configFile, cwd: dir, env: {}, builtins: builtinPlugins });

describe('delete and a run of the same config', () => {
  it('a run started while delete asks for confirmation is LOCKED, so no incremental is made on the shard being deleted', async () => {
    const config = await load();
    const full = await runBackup(config, { type: 'full' });
    expect(full.status).toBe('success');
    await writeFile(join(dir, 'data/b.txt'), 'beta\n');

    let runDuringPrompt: unknown;
    const outcome = await deleteBackup(
      config,
      {
        id: full.id!,
        confirm: async () => {
          // What a scheduled run between the dependents' listing and the deletion does.
          runDuringPrompt = await runBackup(config, { type: 'incremental' }).catch((error: unknown) => error);
          return true;
        },
      },
      () => undefined,
    );
    expect(runDuringPrompt).toMatchObject({ code: 'LOCKED' });
    expect(outcome.destinations).toMatchObject([{ destination: 'here', status: 'deleted' }]);

    // Nothing is left that needs the deleted shard.
    const dest = await openDestination(config, selectDestinations(config)[0]!);
    try {
      const { complete } = await listShards(dest);
      expect(complete.filter((manifest) => manifest.type === 'incremental')).toEqual([]);
    } finally {
      await dest.close();
    }
  });
});
