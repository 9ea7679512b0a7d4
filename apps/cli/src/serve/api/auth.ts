import { createHash, timingSafeEqual } from 'node:crypto';
import type { ApiToken } from '../settings.js';
import { ApiError } from './errors.js';

/**
 * The caller of a request, from its `Authorization: Bearer TOKEN` header:
 * `token:NAME` of the token it matches. No header is 401, a token that matches
 * none is 403. Every token is compared, each in constant time (digests of equal
 * length), so the time taken says nothing about how close a guess was.
 */
export function authenticate(header: string | undefined, tokens: readonly ApiToken[]): string {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  if (!match) {
    throw new ApiError(401, 'UNAUTHORIZED', 'an `Authorization: Bearer TOKEN` header is required', {
      hint: 'send the token of backup.api.token_file',
    });
  }
  const given = digest(match[1]!);
  let caller: string | undefined;
  for (const token of tokens) {
    if (timingSafeEqual(given, digest(token.value)) && caller === undefined) caller = `token:${token.name}`;
  }
  if (caller === undefined) throw new ApiError(403, 'FORBIDDEN', 'the bearer token is not valid');
  return caller;
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}
