import { readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import type { PluginContext } from '@matric-backup/core';
import type { SmbServer } from '@matric-backup/test-servers';
import type { SmbConfigInput } from '../src/index.js';
import { smbConfigSchema } from '../src/index.js';

export { freePort, type SmbServer, startSmbServer } from '@matric-backup/test-servers';

/** A plugin context whose warnings are kept for assertions. */
export function testContext(tmpDir = tmpdir()): PluginContext & { warnings: string[] } {
  const warnings: string[] = [];
  return {
    name: 'smb-test',
    configDir: tmpdir(),
    tmpDir,
    log: { debug() {}, info() {}, warn: (message) => warnings.push(message) },
    warnings,
  };
}

/** A validated config block for `server`, as core would hand it to create(). */
export function configFor(server: SmbServer, extra: Partial<SmbConfigInput> = {}) {
  return smbConfigSchema.parse({
    share: `//${server.host}/${server.share}`,
    port: server.port,
    username: server.username,
    password: server.password,
    ...extra,
  });
}

/** Every file below `folder` as '/'-separated relative paths (folders left out). */
export async function filesUnder(folder: string): Promise<string[]> {
  const entries = await readdir(folder, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => relative(folder, join(entry.parentPath, entry.name)).split('\\').join('/'));
}
