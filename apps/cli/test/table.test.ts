import { describe, expect, it } from 'vitest';
import { renderTable } from '../src/output/table.js';

describe('renderTable', () => {
  it('pads each column to its widest cell, two spaces apart, no trailing blanks', () => {
    expect(
      renderTable(
        ['ID', 'SIZE', 'STATUS'],
        [
          ['a', '3 B', 'ok'],
          ['backup_x', '1.2 MiB', ''],
        ],
      ),
    ).toBe(['ID        SIZE     STATUS', 'a         3 B      ok', 'backup_x  1.2 MiB'].join('\n'));
  });

  it('measures cells as a terminal shows them: colour codes take no room, wide characters two', () => {
    const red = '\u001b[31mfailed\u001b[39m';
    const lines = renderTable(
      ['NAME', 'STATUS'],
      [
        ['日本', red],
        ['abcd', 'ok'],
      ],
    ).split('\n');
    expect(lines).toEqual(['NAME  STATUS', `日本  ${red}`, 'abcd  ok']);
  });

  it('has no header line when there is no head', () => {
    expect(renderTable([], [['x', 'y']])).toBe('x  y');
  });
});
