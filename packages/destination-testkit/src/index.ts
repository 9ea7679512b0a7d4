export type { ConformanceCheck } from './check.js';
export {
  atomicity,
  type ConformanceGroup,
  close,
  concurrency,
  conformanceChecks,
  deletion,
  errors,
  ifAbsent,
  list,
  overwrite,
  putGet,
  runDestinationConformance,
  stat,
} from './groups.js';
export { type ConformanceOptions, type ResolvedConformanceOptions, resolveOptions } from './options.js';
export { type Payload, randomPayload } from './payload.js';
