export { type RsyncServer, startRsyncServer } from './rsyncd.js';
export { type S3TestServer, startS3Server } from './s3.js';
export { canMount, withLoopDisk, withTmpfs } from './scratch-mounts.js';
export { type SmbServer, startSmbServer } from './smbd.js';
export { freePort } from './spawn-daemon.js';
export { generateUnauthorizedKey, type SshServer, startSshServer } from './sshd.js';
