import { MatricError } from '@matric-backup/core';

/** `verify --sample`: a share of the shards (`10%`) or a number of them (`3`). */
export type Sample = { percent: number } | { count: number };

/** `10%`, `2.5%` or `3` -> a Sample; USAGE naming the option otherwise. */
export function parseSample(text: string): Sample {
  const percent = /^\s*(\d+(?:\.\d+)?)\s*%\s*$/.exec(text);
  if (percent) {
    const value = Number(percent[1]);
    if (value > 0 && value <= 100) return { percent: value };
  } else if (/^\s*\d+\s*$/.test(text) && Number(text) > 0) {
    return { count: Number(text) };
  }
  throw new MatricError(
    'USAGE',
    `--sample ${JSON.stringify(text)}: expected a percentage above 0 up to 100% (10%) or a number of shards (3)`,
    {
      hint: 'e.g. `matric-backup verify --sample 10%` reads a tenth of the shards whole, chosen at random',
    },
  );
}

/**
 * Which of `count` shards to read whole: `percent` of them rounded up (at
 * least one), or `count` of them (all when there are fewer), chosen at random
 * (`random` as Math.random). Returns their indexes, ascending.
 */
export function sampleIndexes(total: number, sample: Sample, random: () => number = Math.random): number[] {
  const wanted =
    'percent' in sample ? Math.ceil((total * sample.percent) / 100) : Math.min(sample.count, total);
  const indexes = Array.from({ length: total }, (_, index) => index);
  // The first `wanted` places of a Fisher-Yates shuffle are a uniform random sample.
  for (let place = 0; place < wanted; place++) {
    const pick = place + Math.floor(random() * (total - place));
    [indexes[place], indexes[pick]] = [indexes[pick]!, indexes[place]!];
  }
  return indexes.slice(0, wanted).sort((a, b) => a - b);
}
