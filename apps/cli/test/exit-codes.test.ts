import { ConfigError, DestinationError, MatricError } from '@matric-backup/core';
import { describe, expect, it } from 'vitest';
import { describeError, ExitCode, errorList, exitCodeOf } from '../src/exit-codes.js';

describe('exit codes', () => {
  it.each([
    ['CONFIG_INVALID', 2],
    ['USAGE', 2],
    ['PLUGIN_LOAD', 2],
    ['PLUGIN_API_VERSION', 2],
    ['LOCKED', 4],
    ['SOURCE_FAILED', 1],
    ['SHARD_NOT_FOUND', 1],
    ['VERIFY_FAILED', 1],
    ['RESTORE_REFUSED', 1],
    ['HAS_DEPENDENTS', 2],
  ] as const)('%s exits %i', (code, exit) => {
    expect(exitCodeOf(new MatricError(code, 'x'))).toBe(exit);
  });

  it('destination errors and unexpected errors exit 1', () => {
    expect(exitCodeOf(new DestinationError('UNREACHABLE', 'down'))).toBe(ExitCode.FAILED);
    expect(exitCodeOf(new TypeError('bug'))).toBe(ExitCode.FAILED);
    expect(exitCodeOf('a string')).toBe(ExitCode.FAILED);
  });

  it('a config error exits 2', () => {
    expect(
      exitCodeOf(new ConfigError([{ path: 'backup.x', message: 'unknown key', line: 3 }], '/b.yaml')),
    ).toBe(2);
  });
});

describe('describeError', () => {
  it('an expected error: message and hint, never a stack, even verbose', () => {
    const error = new MatricError('LOCKED', 'another run holds the lock (pid 42)', { hint: 'wait' });
    for (const verbose of [false, true]) {
      const text = describeError(error, verbose);
      expect(text).toBe('error: another run holds the lock (pid 42)\nhint: wait');
    }
  });

  it('falls back to the hint of its code', () => {
    expect(describeError(new MatricError('SHARD_NOT_FOUND', 'no such shard'), false)).toMatch(
      /^error: no such shard\nhint: run `matric-backup list`/,
    );
  });

  it('names the destination of a destination error', () => {
    const error = new DestinationError('AUTH_FAILED', 'access denied', { destination: 'offsite' });
    expect(describeError(error, false)).toMatch(/^error: destination "offsite": access denied\nhint: /);
  });

  it('verbose adds the causes of an expected error', () => {
    const error = new MatricError('SOURCE_FAILED', 'cannot read', { cause: new Error('EACCES: /srv/x') });
    expect(describeError(error, false)).not.toContain('EACCES');
    expect(describeError(error, true)).toContain('caused by: Error: EACCES: /srv/x');
  });

  it('an unexpected error: the stack only when verbose', () => {
    const error = new TypeError('cannot read properties of undefined');
    const quiet = describeError(error, false);
    expect(quiet).toMatch(/^error: cannot read properties of undefined\nhint: run again with --verbose/);
    expect(quiet).not.toMatch(/\n\s+at /);
    expect(describeError(error, true)).toMatch(/\n\s+at /);
  });
});

describe('errorList', () => {
  it('a config error: one entry per problem, each with its key path, file and line', () => {
    const error = new ConfigError(
      [
        { path: 'backup.destinations[nas].path', message: 'required key missing', line: 8, column: 7 },
        { path: 'backup.retention.keep_last', message: 'must be >= 0', line: 11 },
      ],
      '/b.yaml',
    );
    expect(errorList(error)).toEqual([
      {
        code: 'CONFIG_INVALID',
        message: 'required key missing',
        key_path: 'backup.destinations[nas].path',
        file: '/b.yaml',
        line: 8,
        column: 7,
        hint: 'fix the file, then run `matric-backup check`',
      },
      {
        code: 'CONFIG_INVALID',
        message: 'must be >= 0',
        key_path: 'backup.retention.keep_last',
        file: '/b.yaml',
        line: 11,
        hint: 'fix the file, then run `matric-backup check`',
      },
    ]);
  });

  it('a destination error names its destination; anything else is one UNKNOWN entry', () => {
    expect(errorList(new DestinationError('NO_SPACE', 'disk full', { destination: 'usb' }))).toEqual([
      {
        code: 'NO_SPACE',
        message: 'disk full',
        destination: 'usb',
        hint: 'free some space or lower the retention of that destination',
      },
    ]);
    expect(errorList(new TypeError('bug'))).toEqual([{ code: 'UNKNOWN', message: 'bug' }]);
  });
});
