import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, startRestartableDaemon } from './spawn-daemon.js';

/**
 * s3rver 3.7.1 on 127.0.0.1 for the S3 tests: a child process (so a test can
 * kill it mid-upload) under `node --openssl-legacy-provider` (without it,
 * ListObjectsV2 continuation past 1,000 keys answers HTTP 500), storing into a
 * temp folder that the tests may inspect. See s3rver.cjs beside this package's
 * package.json for the one operation the harness adds (AbortMultipartUpload).
 */

// At the package root, so the same path holds from src/ (vitest) and dist/ (the bench).
const CHILD_SCRIPT = fileURLToPath(new URL('../s3rver.cjs', import.meta.url));
const S3RVER_MAIN = createRequire(import.meta.url).resolve('s3rver');

const OBJECT_SUFFIX = '._S3rver_object';

export interface S3TestServer {
  /** `http://127.0.0.1:PORT` (path-style). */
  endpoint: string;
  port: number;
  /** Created at start. */
  bucket: string;
  /** s3rver's built-in account; requests are signature-checked against it. */
  accessKeyId: string;
  secretAccessKey: string;
  /** Where s3rver stores buckets, objects and multipart parts. */
  directory: string;
  /** Multipart uploads not yet completed or aborted, read from s3rver's folder. */
  pendingUploads(): Array<{ uploadId: string; key: string }>;
  /** Full keys of every object in the bucket, read from s3rver's folder (sorted). */
  storedKeys(): string[];
  /** The file holding the bytes s3rver stored for `key` (full key, prefix included). */
  storedObjectPath(key: string): string;
  /** SIGKILLs the server (open requests die at once); the stored data stays. */
  stop(): Promise<void>;
  /** Starts the server again on the same port and folder. */
  restart(): Promise<void>;
  /** Stops the server and removes its folder. */
  dispose(): Promise<void>;
}

export async function startS3Server({ bucket = 'matric-test' } = {}): Promise<S3TestServer> {
  const directory = mkdtempSync(join(tmpdir(), 'mb-s3rver-'));
  const port = await freePort();
  const daemon = await startRestartableDaemon(
    process.execPath,
    [
      '--openssl-legacy-provider',
      CHILD_SCRIPT,
      JSON.stringify({ s3rverMain: S3RVER_MAIN, port, directory, bucket }),
    ],
    port,
  );
  const uploadsDir = join(directory, bucket, '._S3rver_uploads');

  return {
    endpoint: `http://127.0.0.1:${port}`,
    port,
    bucket,
    accessKeyId: 'S3RVER',
    secretAccessKey: 'S3RVER',
    directory,
    pendingUploads() {
      if (!existsSync(uploadsDir)) return [];
      // s3rver makes an upload's folder before it writes the `key` file in it: an upload
      // caught in between (or removed meanwhile) is not listed yet.
      return readdirSync(uploadsDir).flatMap((uploadId) => {
        try {
          return [{ uploadId, key: readFileSync(join(uploadsDir, uploadId, 'key'), 'utf8') }];
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
          throw error;
        }
      });
    },
    storedKeys() {
      const root = join(directory, bucket);
      if (!existsSync(root)) return [];
      return readdirSync(root, { recursive: true, encoding: 'utf8' })
        .filter((path) => path.endsWith(OBJECT_SUFFIX))
        .map((path) => path.slice(0, -OBJECT_SUFFIX.length))
        .sort();
    },
    storedObjectPath(key) {
      const parts = key.split('/');
      const name = parts.pop();
      return join(directory, bucket, ...parts, `${name}${OBJECT_SUFFIX}`);
    },
    stop: daemon.stop,
    restart: daemon.restart,
    async dispose() {
      await daemon.stop();
      rmSync(directory, { recursive: true, force: true });
    },
  };
}
