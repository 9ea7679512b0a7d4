import type { DestinationStatus } from '@matric-backup/core';

/** One destination's status fields, as `status --json` and the API's status give them. */
export interface DestinationStatusDocument {
  newest?: DestinationStatus['newest'];
  /** Milliseconds since `newest` was created. */
  age_ms?: number;
  count: number;
  bytes: number;
  future: DestinationStatus['future'];
  incomplete: DestinationStatus['incomplete'];
  legacy: number;
  foreign: number;
}

export function destinationStatusDocument(status: DestinationStatus): DestinationStatusDocument {
  return {
    ...(status.newest && { newest: status.newest }),
    ...(status.ageMs !== undefined && { age_ms: status.ageMs }),
    count: status.count,
    bytes: status.bytes,
    future: status.future,
    incomplete: status.incomplete,
    legacy: status.legacy,
    foreign: status.foreign,
  };
}
