import { join } from 'node:path';
import { runDestinationConformance } from '@matric-backup/destination-testkit';
import { afterAll, beforeAll } from 'vitest';
import plugin from '../src/index.js';
import { configFor, filesUnder, type SmbServer, startSmbServer, testContext } from './helpers.js';

let server: SmbServer;
let folder = '';
let count = 0;

beforeAll(async () => {
  server = await startSmbServer();
});
afterAll(async () => {
  await server?.stop();
});

runDestinationConformance({
  name: 'smb (smbclient to Samba with default security)',
  // Every test gets its own, new folder in the share.
  factory: async () => {
    folder = `conformance-${++count}`;
    return plugin.create(configFor(server, { path: folder }), testContext());
  },
  capabilities: plugin.capabilities,
  rawList: () => filesUnder(join(server.root, folder)),
});
