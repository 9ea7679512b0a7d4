/**
 * The known name a mistyped one was most likely meant to be (`lsit` -> `list`, `stfp` -> `sftp`),
 * or undefined when none is close: a suggestion that is far off misleads more than none.
 */
export function closestName(word: string, known: Iterable<string>): string | undefined {
  const wanted = word.toLowerCase();
  // One edit in a short word, two from five letters on: `jsn` finds `json`, `abc` finds nothing.
  const allowed = wanted.length < 5 ? 1 : 2;
  let best: { name: string; distance: number } | undefined;
  for (const name of known) {
    if (name === word) continue;
    const distance = editDistance(wanted, name.toLowerCase());
    if (distance <= allowed && (!best || distance < best.distance)) best = { name, distance };
  }
  return best?.name;
}

/** Insertions, deletions, substitutions and swaps of two neighbours (typing's usual slips), each one edit. */
function editDistance(a: string, b: string): number {
  const rows: number[][] = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let value = Math.min(rows[i - 1][j] + 1, rows[i][j - 1] + 1, rows[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        value = Math.min(value, rows[i - 2][j - 2] + 1);
      rows[i][j] = value;
    }
  }
  return rows[a.length][b.length];
}
