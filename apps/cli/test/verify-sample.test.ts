import { describe, expect, it } from 'vitest';
import { parseSample, sampleIndexes } from '../src/operations/sample.js';

describe('verify --sample', () => {
  it('reads a percentage or a count, and refuses anything else naming the option', () => {
    expect(parseSample('10%')).toEqual({ percent: 10 });
    expect(parseSample('2.5 %')).toEqual({ percent: 2.5 });
    expect(parseSample('3')).toEqual({ count: 3 });
    for (const bad of ['0%', '101%', '0', '-1', 'ten', '1.5', '']) {
      expect(() => parseSample(bad), bad).toThrow(/--sample .*expected a percentage/);
    }
  });

  it('a percentage rounds up (at least one shard); a count is capped by the shards there are', () => {
    expect(sampleIndexes(10, { percent: 10 })).toHaveLength(1);
    expect(sampleIndexes(10, { percent: 11 })).toHaveLength(2);
    expect(sampleIndexes(3, { percent: 1 })).toHaveLength(1);
    expect(sampleIndexes(4, { percent: 100 })).toEqual([0, 1, 2, 3]);
    expect(sampleIndexes(2, { count: 5 })).toEqual([0, 1]);
    expect(sampleIndexes(0, { percent: 50 })).toEqual([]);
  });

  it('picks distinct shards by the random source, each with a fair chance', () => {
    // random() = 0 keeps each place's own shard; just below 1 swaps in the last one each time.
    expect(sampleIndexes(5, { count: 2 }, () => 0)).toEqual([0, 1]);
    expect(sampleIndexes(5, { count: 2 }, () => 0.999)).toEqual([0, 4]);
    const seen = new Array(5).fill(0);
    let state = 1;
    const lcg = () => {
      state = (state * 48271) % 2147483647;
      return state / 2147483647;
    };
    for (let round = 0; round < 5000; round++) {
      const picked = sampleIndexes(5, { count: 2 }, lcg);
      expect(new Set(picked).size).toBe(2);
      for (const index of picked) seen[index]++;
    }
    // 2,000 expected each; a biased pick (say, never the last) lands far outside this.
    for (const count of seen) expect(count).toBeGreaterThan(1700);
  });
});
