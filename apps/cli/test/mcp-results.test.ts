import { DestinationError, MatricError } from '@matric-backup/core';
import { describe, expect, it } from 'vitest';
import { allows } from '../src/mcp/access.js';
import { cleanResult, toolError, toolResult } from '../src/mcp/results.js';

const mask = (text: string) => text.split('hunter2secret').join('***');

describe('MCP results', () => {
  it('masks every string and never rewrites a key (a destination named offsiteCopy stays so)', () => {
    expect(
      cleanResult(
        {
          files_checked: 3,
          dry_run: true,
          offsiteCopy: { 'local-disk': 1 },
          url: 'https://u:hunter2secret@h',
          gone: undefined,
        },
        mask,
      ),
    ).toEqual({ files_checked: 3, dry_run: true, offsiteCopy: { 'local-disk': 1 }, url: 'https://u:***@h' });
  });

  it('gives a short text and the structured document', () => {
    const result = toolResult('ok hunter2secret', { shard_id: 'x' }, mask);
    expect(result).toEqual({
      content: [{ type: 'text', text: 'ok ***' }],
      structuredContent: { shard_id: 'x' },
    });
  });

  it('turns an error into a tool error with its code, destination and hint, masked', () => {
    const error = new DestinationError('AUTH_FAILED', 'key hunter2secret refused', {
      destination: 'offsite',
      retryable: false,
    });
    const result = toolError(error, mask);
    expect(result.isError).toBe(true);
    expect(result.structuredContent).toEqual({
      error: {
        code: 'AUTH_FAILED',
        message: 'key *** refused',
        destination: 'offsite',
        hint: expect.stringContaining('credentials'),
      },
    });
    expect(result.content[0]).toMatchObject({
      text: expect.stringMatching(/^error AUTH_FAILED: destination "offsite": key \*\*\* refused\nhint: /),
    });
    expect(toolError(new Error('boom'), mask).structuredContent).toEqual({
      error: { code: 'UNKNOWN', message: 'boom' },
    });
    expect(toolError(new MatricError('LOCKED', 'busy', { hint: 'wait' }), mask).structuredContent).toEqual({
      error: { code: 'LOCKED', message: 'busy', hint: 'wait' },
    });
  });

  it('orders access levels read < operate < full', () => {
    expect([
      allows('read', 'operate'),
      allows('operate', 'operate'),
      allows('operate', 'full'),
      allows('full', 'full'),
    ]).toEqual([false, true, false, true]);
  });
});
