export type { ConformanceCheck } from './check.js';
export { parseConfig } from './config.js';
export { type ConformanceGroup, conformanceChecks, runDestinationConformance } from './groups.js';
export { type MemoryDestination, memoryDestination } from './memory/destination.js';
export { memoryPlugin } from './memory/plugin.js';
export { type MemoryObject, MemoryStore, namedMemoryStore } from './memory/store.js';
export { type ConformanceOptions, type ResolvedConformanceOptions, resolveOptions } from './options.js';
export { type Payload, randomPayload } from './payload.js';
export type { TestRunner } from './runner.js';
