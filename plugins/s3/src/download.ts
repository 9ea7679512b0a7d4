import { PassThrough, type Readable } from 'node:stream';

/**
 * The object's bytes as the caller reads them, with a failure mid-way (server
 * gone, connection reset) surfacing as a mapped DestinationError rather than a
 * bare socket error. Destroying the returned stream releases the response.
 */
export function withMappedErrors(body: Readable, mapError: (error: unknown) => Error): Readable {
  const out = new PassThrough();
  body.once('error', (error) => out.destroy(mapError(error)));
  out.once('close', () => body.destroy());
  return body.pipe(out);
}
