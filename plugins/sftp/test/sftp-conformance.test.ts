import { runDestinationConformance } from '@matric-backup/destination-testkit';
import { sftpPlugin } from '@matric-backup/plugin-sftp';
import { type SshServer, startSshServer } from '@matric-backup/test-servers';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { freshFolder, rawList, removeScratch } from './helpers.js';

let server: SshServer;
let folder = '';
beforeAll(async () => {
  server = await startSshServer();
});
afterAll(async () => {
  await server?.dispose();
  await removeScratch();
});

function config(username = server.username) {
  folder = freshFolder(server.root);
  return {
    host: server.host,
    port: server.port,
    username,
    path: folder,
    ssh_key: server.keyPath,
    known_hosts: server.knownHostsPath,
  };
}

runDestinationConformance({
  name: 'sftp (OpenSSH sshd)',
  runner: { describe, it },
  plugin: sftpPlugin,
  config: () => config(),
  // A user the key is not authorised for.
  badCredentials: () => config('nobody'),
  rawList: () => rawList(folder),
});
