import { runDestinationConformance } from '@matric-backup/destination-testkit';
import { rsyncPlugin } from '@matric-backup/plugin-sftp';
import {
  type RsyncServer,
  type SshServer,
  startRsyncServer,
  startSshServer,
} from '@matric-backup/test-servers';
import { afterAll, beforeAll } from 'vitest';
import { freshFolder, rawList, removeScratch, testContext } from './helpers.js';

let sshd: SshServer;
let rsyncd: RsyncServer;
let folder = '';
// rsync lists a folder as one stream (no server page size to cross), and every put
// spawns rsync (~100-300 ms here), so 1,100 keys would cost minutes and prove nothing more.
const manyKeys = 100;
beforeAll(async () => {
  [sshd, rsyncd] = await Promise.all([startSshServer(), startRsyncServer()]);
});
afterAll(async () => {
  await Promise.all([sshd?.dispose(), rsyncd?.dispose()]);
  await removeScratch();
});

runDestinationConformance({
  name: 'rsync over ssh (OpenSSH sshd)',
  factory: async () => {
    folder = freshFolder(sshd.root);
    return rsyncPlugin.create(
      rsyncPlugin.configSchema.parse({
        target: `${sshd.username}@${sshd.host}:${folder}`,
        port: sshd.port,
        ssh_key: sshd.keyPath,
        known_hosts: sshd.knownHostsPath,
      }),
      testContext(),
    );
  },
  capabilities: rsyncPlugin.capabilities,
  rawList: () => rawList(folder),
  manyKeys,
});

runDestinationConformance({
  name: 'rsync daemon',
  factory: async () => {
    folder = freshFolder(rsyncd.root);
    return rsyncPlugin.create(
      rsyncPlugin.configSchema.parse({
        target: `${rsyncd.url}/${folder.slice(rsyncd.root.length + 1)}`,
        password: rsyncd.password,
      }),
      testContext(),
    );
  },
  capabilities: rsyncPlugin.capabilities,
  rawList: () => rawList(folder),
  manyKeys,
});
