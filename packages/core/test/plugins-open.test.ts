import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import {
  type BuiltinPlugins,
  DestinationError,
  defineDestination,
  loadConfig,
  openDestination,
  type PluginContext,
} from '@matric-backup/core';
import { memoryDestination } from '@matric-backup/destination-testkit';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { tempDirs, writeConfig } from './fixtures/config/temp.js';

const newDir = tempDirs();

/** A plugin that hands its context back to the test and logs its secret, as a careless plugin might. */
function recordingPlugin() {
  const contexts: PluginContext[] = [];
  const plugin = defineDestination({
    type: 'memory',
    configSchema: z.strictObject({ password: z.string(), fail: z.boolean().default(false) }),
    secretKeys: ['password'],
    capabilities: {},
    create: (config, context) => {
      contexts.push(context);
      context.log.warn(`logging in with password ${config.password}`);
      if (config.fail) throw new Error(`cannot connect using ${config.password}`);
      return memoryDestination();
    },
  });
  const builtins: BuiltinPlugins = {
    memory: { packageName: 'memory', load: async () => ({ default: plugin }) },
  };
  return { contexts, builtins };
}

async function configWith(block: string, builtins: BuiltinPlugins) {
  const dir = await newDir();
  const file = await writeConfig(dir, `backup:\n  state_dir: state\n  destinations:\n    - ${block}\n`, {
    files: { 'pw.txt': 'memory-password-123\n' },
  });
  return loadConfig({ file, env: {}, builtins });
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('openDestination', () => {
  it('creates the plugin destination with a context, guarded and with a private scratch folder', async () => {
    const { contexts, builtins } = recordingPlugin();
    const config = await configWith('{name: mem, type: memory, password_file: pw.txt}', builtins);
    const written: string[] = [];
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
      written.push(String(chunk));
      return true;
    });
    const destination = await openDestination(config, config.destinations[0]!);

    const [context] = contexts;
    expect(context).toMatchObject({ name: 'mem', configDir: config.dir });
    expect(context!.tmpDir.startsWith(join(config.dir, 'state', 'tmp', 'mem-'))).toBe(true);
    expect((await stat(context!.tmpDir)).mode & 0o777).toBe(0o700);
    expect(written).toEqual(['[mem] warn: logging in with password ***\n']);

    await destination.put('a/b.bin', Readable.from([Buffer.from('hello')]), {
      size: 5,
      sha256: createHash('sha256').update('hello').digest('hex'),
    });
    expect(await text(await destination.get('a/b.bin'))).toBe('hello');
    await expect(async () =>
      destination.put('../escape', Readable.from([]), { size: 0, sha256: 'x' }),
    ).rejects.toMatchObject({
      code: 'INVALID_KEY',
    });
    const missing = await destination.get('nope').catch((error: unknown) => error);
    expect(missing).toBeInstanceOf(DestinationError);
    expect(missing).toMatchObject({ code: 'NOT_FOUND', destination: 'mem' });

    await destination.close();
    await destination.close();
    await expect(stat(context!.tmpDir)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it("removes the scratch folders of killed runs of this destination, never a live run's or another's", async () => {
    const { contexts, builtins } = recordingPlugin();
    const config = await configWith('{name: mem, type: memory, password_file: pw.txt}', builtins);
    const tmp = join(config.dir, 'state', 'tmp');
    // This process's own start time (field 22 of /proc/self/stat): a run that is alive.
    const stat22 = readFileSync('/proc/self/stat', 'utf8');
    const start = stat22.slice(stat22.lastIndexOf(')') + 2).split(' ')[19];
    const dead = 'mem-2147483000-5-Ab3dEf';
    const kept = [`mem-${process.pid}-${start}-Zz9zz9`, 'memo-2147483000-5-Ab3dEf', 'mem-Ab3dEf'];
    for (const name of [dead, ...kept]) {
      await mkdir(join(tmp, name), { recursive: true });
      await writeFile(join(tmp, name, '.credentials'), 'password=memory-password-123\n');
    }
    vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const destination = await openDestination(config, config.destinations[0]!);
    const own = contexts[0]!.tmpDir.slice(tmp.length + 1);
    expect(own).toMatch(new RegExp(`^mem-${process.pid}-${start}-[A-Za-z0-9]{6}$`));
    expect((await readdir(tmp)).sort()).toEqual([...kept, own].sort());
    await destination.close();
    expect((await readdir(tmp)).sort()).toEqual([...kept].sort());
  });

  it('wraps a failing create in a DestinationError naming the destination, secret masked', async () => {
    const { contexts, builtins } = recordingPlugin();
    const config = await configWith('{name: mem, type: memory, password_file: pw.txt, fail: true}', builtins);
    vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const error = await openDestination(config, config.destinations[0]!).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(DestinationError);
    expect(error).toMatchObject({ destination: 'mem', message: 'open failed: cannot connect using ***' });
    // The scratch folder of a destination that never opened is not left behind.
    await expect(stat(contexts[0]!.tmpDir)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('refuses an incomplete Destination from create(), naming the missing methods', async () => {
    const contexts: PluginContext[] = [];
    const plugin = defineDestination({
      type: 'hollow',
      configSchema: z.strictObject({}),
      capabilities: {},
      create: (_config, context) => {
        contexts.push(context);
        return { check: async () => ({ details: [] }), close: async () => {} } as never;
      },
    });
    const config = await configWith('{name: h, type: hollow}', {
      hollow: { packageName: 'hollow', load: async () => ({ default: plugin }) },
    });
    const error = await openDestination(config, config.destinations[0]!).catch((caught: unknown) => caught);
    expect(error).toMatchObject({
      code: 'PLUGIN_LOAD',
      message:
        'the plugin for type hollow returned an incomplete Destination from create(): missing put, get, list, stat, delete',
    });
    await expect(stat(contexts[0]!.tmpDir)).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
