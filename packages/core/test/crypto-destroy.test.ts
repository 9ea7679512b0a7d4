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
  const encrypt = await createEncryptStream({ method: 'age', recipients: [recipient] });
  const source = new Readable({ read() {} });
  source.push(Buffer.alloc(100_000));
  const sink = new Writable({
    write(_c, _e, cb) {
      cb();
    },
  });
  // The source fails only once the pipeline holds it, so the error is the pipeline's to report;
  // a pipeline that never settles fails the test by its timeout.
  const settled = pipeline(source, encrypt, sink);
  setTimeout(() => source.destroy(new Error('source broke')), 50);
  await expect(settled).rejects.toThrow('source broke');
}, 20_000);
