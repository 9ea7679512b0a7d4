import { link, mkdir, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { memoryDestination } from '@matric-backup/destination-testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { restoreShard } from '../src/restore/restore.js';
import { runBackup } from '../src/run/run.js';
import { findShard } from '../src/shard/catalog.js';
import { resolveChain } from '../src/shard/chain.js';
import { setupRun, type TestSetup } from './fixtures/run/config.js';

let setup: TestSetup | undefined;
afterEach(async () => {
  await setup?.cleanup();
  setup = undefined;
});

describe('hard links across a chain', () => {
  it.each(['metadata', 'content'] as const)(
    'a name added to a file of two names (%s mode) is restored as one file of three names',
    async (compare) => {
      setup = await setupRun({
        sources: (dir) => [{ name: 'data', type: 'directory', path: join(dir, 'data') }],
        backup: { incremental: { compare } },
      });
      const data = join(setup.dir, 'data');
      await mkdir(data);
      await writeFile(join(data, 'a'), 'one file, many names\n');
      await link(join(data, 'a'), join(data, 'b'));
      expect((await runBackup(setup.config, { now: new Date('2026-01-17T02:00:00Z') })).type).toBe('full');
      await link(join(data, 'a'), join(data, 'c'));
      const incremental = await runBackup(setup.config, { now: new Date('2026-01-18T02:00:00Z') });
      expect(incremental.type).toBe('incremental');

      const from = memoryDestination(setup.store('primary'));
      const manifest = await findShard(from, incremental.id!);
      const to = join(setup.dir, 'restored');
      await restoreShard({ from, manifest, chain: await resolveChain(from, manifest), to });
      const [a, b, c] = await Promise.all(['a', 'b', 'c'].map((name) => stat(join(to, 'data', name))));
      expect([a!.nlink, b!.nlink, c!.nlink]).toEqual([3, 3, 3]);
      expect(new Set([a!.ino, b!.ino, c!.ino]).size).toBe(1);
      await rm(to, { recursive: true, force: true });
    },
  );
});
