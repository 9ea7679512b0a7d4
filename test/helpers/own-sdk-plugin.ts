import { cp, mkdir, symlink, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { REPO_ROOT } from './cli.js';

/** The type the plugin registers. */
export const VAULT_TYPE = 'vault';
/** The only token the vault accepts. */
export const VAULT_TOKEN = 'letmein';
/** One line per put() call, written next to the config: counts attempts without trusting the CLI. */
export const PUT_LOG = 'vault-puts.log';

/**
 * Installs `matric-backup-plugin-vault` next to a config in `dir` the way npm
 * lays it out when the plugin's SDK range differs from the CLI's: the plugin
 * gets its OWN copy of the SDK in its own node_modules, so its error classes
 * are not the CLI's. The vault is a folder guarded by a token.
 */
export async function installOwnSdkPlugin(dir: string): Promise<string> {
  const modules = join(dir, 'node_modules');
  const pluginDir = join(modules, `matric-backup-plugin-${VAULT_TYPE}`);
  await copySdk(join(pluginDir, 'node_modules'));
  await mkdir(modules, { recursive: true });
  // zod is a peer of the SDK; one copy next to the config, as npm hoists it.
  const zodDir = dirname(
    createRequire(join(REPO_ROOT, 'packages/core/package.json')).resolve('zod/package.json'),
  );
  await symlink(zodDir, join(modules, 'zod'), 'dir');
  await writeFile(
    join(pluginDir, 'package.json'),
    JSON.stringify({
      name: `matric-backup-plugin-${VAULT_TYPE}`,
      version: '1.0.0',
      type: 'module',
      main: 'index.js',
    }),
  );
  await writeFile(join(pluginDir, 'index.js'), PLUGIN_SOURCE);
  return pluginDir;
}

/** The type of a plugin written by hand, without defineDestination: it declares no API version. */
export const HANDMADE_TYPE = 'handmade';

/** Installs `matric-backup-plugin-handmade` next to a config in `dir`. */
export async function installHandmadePlugin(dir: string): Promise<void> {
  const pluginDir = join(dir, 'node_modules', `matric-backup-plugin-${HANDMADE_TYPE}`);
  await mkdir(pluginDir, { recursive: true });
  await writeFile(
    join(pluginDir, 'package.json'),
    JSON.stringify({
      name: `matric-backup-plugin-${HANDMADE_TYPE}`,
      version: '0.0.1',
      type: 'module',
      main: 'index.js',
    }),
  );
  await writeFile(
    join(pluginDir, 'index.js'),
    `import { z } from 'zod';
export default {
  type: ${JSON.stringify(HANDMADE_TYPE)},
  configSchema: z.strictObject({}),
  capabilities: {},
  create: () => ({}),
};
`,
  );
}

/** A separate copy of the built SDK package, as npm installs it under the plugin. */
async function copySdk(modules: string): Promise<void> {
  const target = join(modules, '@matric-backup', 'plugin-api');
  const sdk = join(REPO_ROOT, 'packages/plugin-api');
  await mkdir(target, { recursive: true });
  await cp(join(sdk, 'package.json'), join(target, 'package.json'));
  await cp(join(sdk, 'dist'), join(target, 'dist'), { recursive: true });
}

const PLUGIN_SOURCE = `
import { createReadStream, createWriteStream } from 'node:fs';
import { appendFile, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { defineDestination, DestinationError } from '@matric-backup/plugin-api';
import { z } from 'zod';

function authorize(config) {
  if (config.token !== ${JSON.stringify(VAULT_TOKEN)}) {
    throw new DestinationError('AUTH_FAILED', 'the vault rejected the token');
  }
}

// Objects are files; what exists is what the index says, as in a store whose
// metadata lives apart from its blobs. A blob lost behind the index's back is NOT_FOUND on get.
function createVault(config, context) {
  const blob = (key) => join(config.path, 'blobs', encodeURIComponent(key));
  const indexFile = join(config.path, 'index.json');
  const readIndex = async () => JSON.parse(await readFile(indexFile, 'utf8').catch(() => '{}'));
  const writeIndex = async (index) => {
    await writeFile(indexFile + '.tmp', JSON.stringify(index));
    await rename(indexFile + '.tmp', indexFile);
  };
  const info = (key, entry) => entry && { key, size: entry.size, modified: new Date(entry.modified) };
  return {
    async put(key, body, { size }) {
      await appendFile(join(context.configDir, ${JSON.stringify(PUT_LOG)}), key + '\\n');
      authorize(config);
      await mkdir(join(config.path, 'blobs'), { recursive: true });
      await pipeline(body, createWriteStream(blob(key) + '.tmp'));
      await rename(blob(key) + '.tmp', blob(key));
      await writeIndex({ ...(await readIndex()), [key]: { size, modified: Date.now() } });
    },
    async get(key) {
      authorize(config);
      const stream = createReadStream(blob(key));
      await new Promise((resolve, reject) => stream.once('open', resolve).once('error', reject)).catch(() => {
        throw new DestinationError('NOT_FOUND', 'no object "' + key + '" in the vault');
      });
      return stream;
    },
    async *list(prefix = '') {
      authorize(config);
      const index = await readIndex();
      for (const key of Object.keys(index).sort()) if (key.startsWith(prefix)) yield info(key, index[key]);
    },
    async stat(key) {
      authorize(config);
      return info(key, (await readIndex())[key]);
    },
    async delete(key) {
      authorize(config);
      const { [key]: _gone, ...rest } = await readIndex();
      await writeIndex(rest);
      await rm(blob(key), { force: true });
    },
    async check() {
      authorize(config);
      return { details: ['the vault at ' + config.path + ' accepts the token'] };
    },
    async close() {},
  };
}

export default defineDestination({
  type: ${JSON.stringify(VAULT_TYPE)},
  configSchema: z.strictObject({ path: z.string(), token: z.string() }),
  secretKeys: ['token'],
  pathKeys: ['path'],
  capabilities: {},
  create: createVault,
});
`;
