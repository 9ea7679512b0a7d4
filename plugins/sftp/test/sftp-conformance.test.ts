import { runDestinationConformance } from '@matric-backup/destination-testkit';
import { sftpPlugin } from '@matric-backup/plugin-sftp';
import { type SshServer, startSshServer } from '@matric-backup/test-servers';
import { afterAll, beforeAll } from 'vitest';
import { freshFolder, rawList, removeScratch, testContext } from './helpers.js';

let server: SshServer;
let folder = '';
beforeAll(async () => {
  server = await startSshServer();
});
afterAll(async () => {
  await server?.dispose();
  await removeScratch();
});

runDestinationConformance({
  name: 'sftp (OpenSSH sshd)',
  factory: async () => {
    folder = freshFolder(server.root);
    return sftpPlugin.create(
      sftpPlugin.configSchema.parse({
        host: server.host,
        port: server.port,
        username: server.username,
        path: folder,
        ssh_key: server.keyPath,
        known_hosts: server.knownHostsPath,
      }),
      testContext(),
    );
  },
  capabilities: sftpPlugin.capabilities,
  rawList: () => rawList(folder),
});
