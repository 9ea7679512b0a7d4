// The results table (markdown, readable in a terminal too) and the project's targets.

const MB = 1e6;
const fixed = (value, digits) => (value === undefined || Number.isNaN(value) ? '' : value.toFixed(digits));

/** Rows with throughput (decimal MB of input per wall second) and the ratio to the `tar | zstd -3` yardstick. */
export function formatTable(rows, yardstickMbps) {
  const header = [
    'case',
    'run',
    'input MB',
    'seconds',
    'MB/s',
    'x tar|zstd -3',
    'output MB',
    'peak RSS MB',
    'note',
  ];
  const lines = rows.map((row) => {
    const mbps = row.bytes / MB / row.seconds;
    return [
      row.case,
      row.name,
      fixed(row.bytes / MB, 0),
      fixed(row.seconds, 2),
      fixed(mbps, 1),
      fixed(mbps / yardstickMbps, 2),
      fixed(row.outputBytes === undefined ? undefined : row.outputBytes / MB, 0),
      fixed(row.peakRssMb, 0),
      row.note ?? '',
    ];
  });
  const escapeCell = (cell) => String(cell).replaceAll('|', '\\|');
  return [header, header.map(() => '---'), ...lines]
    .map((cells) => `| ${cells.map(escapeCell).join(' | ')} |`)
    .join('\n');
}

// The targets for the rows a case marks `target: true`.
const MIN_RATIO = 0.5;
const MAX_RSS_MB = 150;

export function checkTargets(rows, yardstickMbps) {
  return rows
    .filter((row) => row.target)
    .map((row) => {
      const ratio = row.bytes / MB / row.seconds / yardstickMbps;
      const fast = ratio >= MIN_RATIO;
      const lean = row.peakRssMb !== undefined && row.peakRssMb <= MAX_RSS_MB;
      return `${fast && lean ? 'PASS' : 'FAIL'} ${row.case}: ${row.name}: ${ratio.toFixed(2)}x tar|zstd -3 (target >= ${MIN_RATIO}), peak RSS ${fixed(row.peakRssMb, 0)} MB (target <= ${MAX_RSS_MB})`;
    });
}
