import { DestinationError, MatricError } from '@matric-backup/core';
import { describe, expect, it } from 'vitest';
import { describeError } from '../src/exit-codes.js';
import { authenticate } from '../src/serve/api/auth.js';
import { ApiError, describeApiError, jobOutcomeOf } from '../src/serve/api/errors.js';
import { Jobs } from '../src/serve/jobs.js';
import { Runner } from '../src/serve/runner.js';

const mask = (text: string) => text.replaceAll('s3cr3t', '***');
const TOKENS = [
  { name: 'ops', value: 'ops-token-0123456789' },
  { name: 'ci', value: 'ci-token-9876543210' },
];

describe('serve API: the one error mapping', () => {
  it('gives core errors the API codes and statuses, secrets masked', () => {
    expect(describeApiError(new MatricError('SHARD_NOT_FOUND', 'shard x not found'), mask)).toEqual({
      status: 404,
      error: { code: 'NOT_FOUND', message: 'shard x not found' },
    });
    expect(describeApiError(new MatricError('USAGE', 'bad id', { hint: 'see list' }), mask)).toEqual({
      status: 400,
      error: { code: 'INVALID_PARAMETER', message: 'bad id', details: { hint: 'see list' } },
    });
    const unreachable = new DestinationError('UNREACHABLE', 'connect refused with s3cr3t', {
      destination: 'off',
    });
    expect(describeApiError(unreachable, mask)).toEqual({
      status: 502,
      error: { code: 'UNREACHABLE', message: 'connect refused with ***', details: { destination: 'off' } },
    });
    // The API words its own hint where the CLI's names a flag; the CLI keeps its own.
    const dependents = new MatricError('HAS_DEPENDENTS', 'refusing to delete x (disk: y)');
    expect(describeApiError(dependents, mask)).toEqual({
      status: 409,
      error: {
        code: 'HAS_DEPENDENTS',
        message: 'refusing to delete x (disk: y)',
        details: { hint: expect.stringContaining('?with_dependents=true') },
      },
    });
    expect(describeError(dependents, false)).toContain('hint: add --with-dependents');
    expect(describeApiError(new ApiError(409, 'BUSY', 'busy', { job_id: 'j' }), mask)).toEqual({
      status: 409,
      error: { code: 'BUSY', message: 'busy', details: { job_id: 'j' } },
    });
  });

  it('answers a bug as INTERNAL_ERROR with the message in details only', () => {
    expect(describeApiError(new TypeError('x is undefined, key s3cr3t'), mask)).toEqual({
      status: 500,
      error: { code: 'INTERNAL_ERROR', message: 'internal error', details: 'x is undefined, key ***' },
    });
  });

  it('tells a missing parameter from a wrong one in a validation error', () => {
    const missing = Object.assign(new Error("body must have required property 'to'"), {
      validation: [
        {
          keyword: 'required',
          instancePath: '',
          message: "must have required property 'to'",
          params: { missingProperty: 'to' },
        },
      ],
    });
    expect(describeApiError(missing, mask).error).toMatchObject({
      code: 'MISSING_PARAMETER',
      details: [{ parameter: 'to' }],
    });
    const wrong = Object.assign(new Error('body/conflict must be one of'), {
      validation: [{ keyword: 'enum', instancePath: '/conflict', message: 'must be one of' }],
    });
    expect(describeApiError(wrong, mask)).toMatchObject({
      status: 400,
      error: { code: 'INVALID_PARAMETER' },
    });
  });

  it('ends a job that met the run lock as skipped, any other failure as failed', () => {
    expect(jobOutcomeOf(new MatricError('LOCKED', 'another run'), mask).status).toBe('skipped');
    expect(jobOutcomeOf(new MatricError('SOURCE_FAILED', 'gone'), mask).status).toBe('failed');
  });
});

describe('serve API: bearer tokens', () => {
  it('401 without a bearer header, 403 with a token that matches none, the name of the one it matches', () => {
    const code = (header: string | undefined) => {
      try {
        authenticate(header, TOKENS);
        return 'ok';
      } catch (error) {
        return `${(error as ApiError).status} ${(error as ApiError).code}`;
      }
    };
    expect(code(undefined)).toBe('401 UNAUTHORIZED');
    expect(code('Basic b3BzOnB3')).toBe('401 UNAUTHORIZED');
    expect(code('Bearer ops-token-012345678')).toBe('403 FORBIDDEN');
    expect(code('Bearer ops-token-01234567890')).toBe('403 FORBIDDEN');
    expect(authenticate('Bearer ci-token-9876543210', TOKENS)).toBe('token:ci');
    expect(authenticate('bearer  ops-token-0123456789', TOKENS)).toBe('token:ops');
  });
});

describe('serve: jobs and the runner', () => {
  it('a job goes from running to succeeded with its result, or to failed with its error; one backup at a time', async () => {
    const jobs = new Jobs((error) => jobOutcomeOf(error, mask));
    const runner = new Runner(jobs);
    let finish!: () => void;
    const first = runner.start(
      'backup',
      'token:ops',
      () => new Promise((resolve) => (finish = () => resolve({ id: 'b1' }))),
    );
    expect(first.status).toBe('running');
    expect(() => runner.start('delete', 'token:ci', async () => undefined)).toThrow(
      expect.objectContaining({
        status: 409,
        code: 'BUSY',
        details: expect.objectContaining({ job_id: first.id }),
      }),
    );
    finish();
    await jobs.idle();
    expect(jobs.get(first.id)).toMatchObject({
      status: 'succeeded',
      result: { id: 'b1' },
      finished_at: expect.any(String),
    });

    const failing = runner.start('backup', 'token:ops', async () => {
      throw new MatricError('SOURCE_FAILED', 'source gone with s3cr3t');
    });
    await jobs.idle();
    expect(jobs.get(failing.id)).toMatchObject({
      status: 'failed',
      error: { code: 'SOURCE_FAILED', message: 'source gone with ***' },
    });
    expect(jobs.list().map((job) => job.id)).toEqual([failing.id, first.id]);
  });
});
