import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { type Destination, guardDestination, type PutOptions } from '@matric-backup/core';
import { memoryDestination } from '@matric-backup/destination-testkit';
import { describe, expect, it } from 'vitest';
import { bandwidthLimited, Pacer, type PacerClock } from '../src/destination/bandwidth.js';
import { loaderIn, tempDirs } from './fixtures/config/temp.js';

/** Time moves only when someone sleeps: what the pacer waited is exactly `now()`. */
function fakeClock(): PacerClock & { slept: number[] } {
  let now = 0;
  const slept: number[] = [];
  return {
    slept,
    now: () => now,
    sleep: async (ms) => {
      slept.push(ms);
      now += ms;
    },
  };
}

async function drain(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

const bytes = (size: number) => Buffer.alloc(size, 7);

describe('the bandwidth pacer', () => {
  it('lets N bytes through in N / rate seconds, less the 100 ms burst', async () => {
    const clock = fakeClock();
    const pacer = new Pacer(1000, clock);
    const out = await drain(Readable.from([bytes(4000), bytes(6000)]).pipe(pacer.stream()));
    expect(out.length).toBe(10_000);
    expect(clock.now()).toBeCloseTo(10_000 - 100, 6);
    // Cut to a tenth of a second's worth: no single wait longer than that.
    expect(Math.max(...clock.slept)).toBeLessThanOrEqual(100 + 1e-9);
  });

  it('shares one budget between streams of one destination', async () => {
    const clock = fakeClock();
    const pacer = new Pacer(2000, clock);
    const [a, b] = await Promise.all([
      drain(Readable.from([bytes(5000)]).pipe(pacer.stream())),
      drain(Readable.from([bytes(5000)]).pipe(pacer.stream())),
    ]);
    expect(a.length + b.length).toBe(10_000);
    // Two streams of 5,000 bytes at 2,000 B/s: 5 s together, not 2.5 s each side by side.
    expect(clock.now()).toBeCloseTo(5000 - 100, 6);
  });

  it('earns no flood from idle time: after a pause it paces again at once', async () => {
    const clock = fakeClock();
    const pacer = new Pacer(1000, clock);
    await drain(Readable.from([bytes(1000)]).pipe(pacer.stream()));
    await clock.sleep(60_000);
    const before = clock.now();
    await drain(Readable.from([bytes(3000)]).pipe(pacer.stream()));
    expect(clock.now() - before).toBeCloseTo(3000 - 100, 6);
  });
});

describe('bandwidthLimited', () => {
  it('paces put bodies and get streams with their bytes intact, and withholds sourcePath', async () => {
    const memory = memoryDestination();
    const seen: PutOptions[] = [];
    const spy: Destination = {
      ...memory,
      put: (key, body, options) => {
        seen.push(options);
        return memory.put(key, body, options);
      },
      get: (key, options) => memory.get(key, options),
    };
    const clock = fakeClock();
    const limited = bandwidthLimited(spy, new Pacer(10_000, clock));
    const body = Buffer.from(Array.from({ length: 50_000 }, (_, index) => index % 251));
    const sha256 = createHash('sha256').update(body).digest('hex');
    await limited.put('a', Readable.from([body]), {
      size: body.length,
      sha256,
      sourcePath: '/spool/a',
    });
    expect(seen[0]).not.toHaveProperty('sourcePath');
    expect(clock.now()).toBeCloseTo(5000 - 100, 6);
    expect(await drain(await limited.get('a'))).toEqual(body);
    expect(clock.now()).toBeCloseTo(10_000 - 100, 6);
  });

  it('guardDestination applies it only when a limit is set, and the put check still holds', async () => {
    const guarded = guardDestination('slow', memoryDestination(), { bandwidthLimit: 1024 * 1024 });
    const body = Buffer.from('hello');
    const wrong = await guarded.put('k', Readable.from([body]), { size: 5, sha256: '0'.repeat(64) }).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(wrong).toMatchObject({ code: 'INTEGRITY' });
    const sha256 = createHash('sha256').update(body).digest('hex');
    await guarded.put('k', Readable.from([body]), { size: 5, sha256 });
    expect((await drain(await guarded.get('k'))).toString()).toBe('hello');
  });
});

describe('bandwidth_limit in backup.yaml', () => {
  const { load, fail } = loaderIn(tempDirs());

  it('reads sizes with an optional /s, in bytes per second', async () => {
    const config = await load(`backup:
  destinations:
    - {name: a, type: local, path: /a, bandwidth_limit: 10MiB/s}
    - {name: b, type: local, path: /b, bandwidth_limit: 500 KB/s}
    - {name: c, type: local, path: /c, bandwidth_limit: 2048}
    - {name: d, type: local, path: /d}
`);
    expect(config.destinations.map((d) => d.bandwidthLimit)).toEqual([
      10 * 1024 * 1024,
      500_000,
      2048,
      undefined,
    ]);
  });

  it('a rate it cannot read is an error at its key and line', async () => {
    const error = await fail(`backup:
  destinations:
    - name: a
      type: local
      path: /a
      bandwidth_limit: fast
`);
    expect(error.issues.map(({ path, line }) => ({ path, line }))).toEqual([
      { path: 'backup.destinations[a].bandwidth_limit', line: 6 },
    ]);
    expect(error.issues[0]!.message).toContain('such as 10MiB/s');
  });
});
