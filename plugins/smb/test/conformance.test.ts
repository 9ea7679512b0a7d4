import { join } from 'node:path';
import { runDestinationConformance } from '@matric-backup/destination-testkit';
import { afterAll, beforeAll, describe, it } from 'vitest';
import plugin from '../src/index.js';
import { filesUnder, type SmbServer, startSmbServer } from './helpers.js';

let server: SmbServer;
let folder = '';
let count = 0;

beforeAll(async () => {
  server = await startSmbServer();
});
afterAll(async () => {
  await server?.stop();
});

/** Every test gets its own, new folder in the share. */
function config(password = server.password) {
  folder = `conformance-${++count}`;
  return {
    share: `//${server.host}/${server.share}`,
    port: server.port,
    username: server.username,
    password,
    path: folder,
  };
}

runDestinationConformance({
  name: 'smb (smbclient to Samba with default security)',
  runner: { describe, it },
  plugin,
  config: () => config(),
  badCredentials: () => config('not-the-password'),
  rawList: () => filesUnder(join(server.root, folder)),
});
