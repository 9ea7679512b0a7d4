import {
  DestinationError,
  guardDestination,
  isDestinationError,
  isMatricError,
  MatricError,
} from '@matric-backup/core';
import { describe, expect, it } from 'vitest';

/** What a DestinationError from another copy of the SDK looks like: another class, the same registered brand. */
function foreignDestinationError(code: string, retryable: boolean): Error {
  const error = Object.assign(new Error('from another copy'), { name: 'DestinationError', code, retryable });
  Object.defineProperty(error, Symbol.for('matric-backup.error'), { value: 'destination' });
  return error;
}

describe('error brand', () => {
  it('recognises errors of this copy by brand and kind', () => {
    expect(isDestinationError(new DestinationError('NOT_FOUND', 'x'))).toBe(true);
    expect(isMatricError(new DestinationError('NOT_FOUND', 'x'))).toBe(true);
    expect(isMatricError(new MatricError('USAGE', 'x'))).toBe(true);
    expect(isDestinationError(new MatricError('USAGE', 'x'))).toBe(false);
  });

  it('recognises another copy by brand, never by name alone', () => {
    expect(isDestinationError(foreignDestinationError('AUTH_FAILED', false))).toBe(true);
    const lookalike = Object.assign(new Error('x'), {
      name: 'DestinationError',
      code: 'AUTH_FAILED',
      retryable: false,
    });
    expect(isDestinationError(lookalike)).toBe(false);
    expect(isMatricError(lookalike)).toBe(false);
  });

  const throwing = (error: Error) =>
    guardDestination('d', {
      put: async () => {},
      get: async () => {
        throw error;
      },
      list: async function* () {},
      stat: async () => undefined,
      delete: async () => {},
      check: async () => ({ details: [] }),
      close: async () => {},
    });

  it('passes a foreign DestinationError through the guard with its code, naming the destination', async () => {
    const error = await throwing(foreignDestinationError('AUTH_FAILED', false))
      .get('k')
      .catch((reason: unknown) => reason);
    expect(error).toMatchObject({ code: 'AUTH_FAILED', retryable: false, destination: 'd' });
  });

  it('turns a code this core does not know into UNKNOWN, keeping the code in the message and the retry rule', async () => {
    const error = await throwing(foreignDestinationError('RATE_LIMITED', true))
      .get('k')
      .catch((reason: unknown) => reason);
    expect(isDestinationError(error)).toBe(true);
    expect(error).toMatchObject({
      code: 'UNKNOWN',
      retryable: true,
      destination: 'd',
      message: 'get failed: RATE_LIMITED: from another copy',
    });
  });
});
