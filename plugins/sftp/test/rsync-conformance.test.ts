import { runDestinationConformance } from '@matric-backup/destination-testkit';
import { rsyncPlugin } from '@matric-backup/plugin-sftp';
import {
  type RsyncServer,
  type SshServer,
  startRsyncServer,
  startSshServer,
} from '@matric-backup/test-servers';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { freshFolder, rawList, removeScratch } from './helpers.js';

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

function overSsh(username = sshd.username) {
  folder = freshFolder(sshd.root);
  return {
    target: `${username}@${sshd.host}:${folder}`,
    port: sshd.port,
    ssh_key: sshd.keyPath,
    known_hosts: sshd.knownHostsPath,
  };
}

function daemon(password = rsyncd.password) {
  folder = freshFolder(rsyncd.root);
  return { target: `${rsyncd.url}/${folder.slice(rsyncd.root.length + 1)}`, password };
}

runDestinationConformance({
  name: 'rsync over ssh (OpenSSH sshd)',
  runner: { describe, it },
  plugin: rsyncPlugin,
  config: () => overSsh(),
  badCredentials: () => overSsh('nobody'),
  rawList: () => rawList(folder),
  manyKeys,
});

runDestinationConformance({
  name: 'rsync daemon',
  runner: { describe, it },
  plugin: rsyncPlugin,
  config: () => daemon(),
  badCredentials: () => daemon('not-the-password'),
  rawList: () => rawList(folder),
  manyKeys,
});
