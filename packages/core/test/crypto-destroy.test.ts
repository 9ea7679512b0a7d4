import { execFileSync } from 'node:child_process';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { expect, it } from 'vitest';
import { createEncryptStream } from '../src/crypto/index.js';

it('an encrypt stream in a pipeline whose source fails settles', async () => {
  const id = execFileSync('age-keygen', { encoding: 'utf8' })
    .split('\n')
    .find((l) => l.startsWith('AGE-SECRET'))!;
  const recipient = execFileSync('age-keygen', ['-y'], { input: id, encoding: 'utf8' }).trim();
  const source = new Readable({ read() {} });
  source.push(Buffer.alloc(100_000));
  setTimeout(() => source.destroy(new Error('source broke')), 200);
  const sink = new Writable({
    write(_c, _e, cb) {
      cb();
    },
  });
  const started = Date.now();
  await expect(
    pipeline(source, await createEncryptStream({ method: 'age', recipients: [recipient] }), sink),
  ).rejects.toThrow('source broke');
  expect(Date.now() - started).toBeLessThan(5000);
}, 10_000);
