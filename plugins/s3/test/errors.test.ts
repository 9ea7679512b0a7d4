import { freePort, type S3TestServer, startS3Server } from '@matric-backup/test-servers';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { chunkedStream, collect, openTestDestination, randomData, sha256 } from './helpers.js';

const MiB = 1024 * 1024;
const WRONG_SECRET = 'wrong-secret-Zq8vX2'; // distinctive, so finding it in a message means it leaked

let server: S3TestServer;
beforeAll(async () => {
  server = await startS3Server();
});
afterAll(() => server?.dispose());

function smallPut() {
  const data = randomData(1024);
  return [chunkedStream(data), { size: data.length, sha256: sha256(data) }] as const;
}

describe('wrong credentials -> AUTH_FAILED, the secret never in the message', () => {
  test.each([
    ['a wrong secret key', 'SignatureDoesNotMatch', { secret_access_key: WRONG_SECRET }],
    [
      'an unknown access key id',
      'InvalidAccessKeyId',
      { access_key_id: 'NOSUCHKEY', secret_access_key: WRONG_SECRET },
    ],
  ])('%s', async (_, reason, credentials) => {
    const { destination } = openTestDestination(server, credentials);
    for (const attempt of [() => destination.check(), () => destination.put('x.bin', ...smallPut())]) {
      const error = await attempt().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toMatchObject({ code: 'AUTH_FAILED', retryable: false });
      const { message, hint } = error as { message: string; hint?: string };
      expect(message).toContain('matric-test');
      expect(message).toContain(reason);
      expect(`${message} ${hint}`).not.toContain(WRONG_SECRET);
    }
    await destination.close();
  });
});

test('a missing bucket is a CONFIG error naming it, from check, put and list', async () => {
  const { destination } = openTestDestination(server, { bucket: 'no-such-bucket' });
  const expected = { code: 'CONFIG', retryable: false, message: expect.stringContaining('"no-such-bucket"') };
  await expect(destination.check()).rejects.toMatchObject(expected);
  await expect(destination.put('x.bin', ...smallPut())).rejects.toMatchObject(expected);
  await expect(collect(destination.list())).rejects.toMatchObject(expected);
  await destination.close();
});

test('a closed port is UNREACHABLE and retryable', async () => {
  const endpoint = `http://127.0.0.1:${await freePort()}`;
  const { destination } = openTestDestination(server, { endpoint });
  await expect(destination.check()).rejects.toMatchObject({
    code: 'UNREACHABLE',
    retryable: true,
    message: expect.stringContaining(endpoint),
  });
  await destination.close();
});

test('the server dying mid-multipart fails the put as UNREACHABLE; no object appears once it is back', async () => {
  const dying = await startS3Server();
  try {
    const { destination, prefix, warnings } = openTestDestination(dying, { part_size: '5MiB' });
    const data = randomData(40 * MiB);
    let killed: Promise<void> | undefined;
    const put = destination.put('big.bin', chunkedStream(data), {
      size: data.length,
      sha256: sha256(data),
      onProgress: () => {
        killed ??= dying.stop();
      },
    });
    await expect(put).rejects.toMatchObject({ code: 'UNREACHABLE', retryable: true });
    await killed;

    await dying.restart();
    expect(await destination.stat('big.bin')).toBeUndefined();
    expect(await collect(destination.list())).toEqual([]);
    // With the server gone the abort could not reach it: the plugin says so, naming the upload
    // (an AbortIncompleteMultipartUpload lifecycle rule removes such leftovers on real S3).
    const [leftover] = dying.pendingUploads();
    expect(leftover?.key).toBe(`${prefix}big.bin`);
    expect(warnings.join('\n')).toContain(leftover!.uploadId);
    await destination.close();
  } finally {
    await dying.dispose();
  }
});

test('a download cut by the server dying fails as UNREACHABLE, not with a bare socket error', async () => {
  const dying = await startS3Server();
  try {
    const { destination } = openTestDestination(dying);
    const data = randomData(64 * MiB);
    await destination.put('big.bin', chunkedStream(data), { size: data.length, sha256: sha256(data) });
    const body = await destination.get('big.bin');
    let received = 0;
    const read = (async () => {
      for await (const chunk of body) {
        received += (chunk as Buffer).length;
        // Slow reader: the server is killed while most of the object is still to come.
        if (received === (chunk as Buffer).length) await dying.stop();
      }
    })();
    await expect(read).rejects.toMatchObject({ code: 'UNREACHABLE', retryable: true });
    expect(received).toBeLessThan(data.length);
    await destination.close();
  } finally {
    await dying.dispose();
  }
});
