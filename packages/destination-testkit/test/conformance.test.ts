import {
  type MemoryStore,
  memoryPlugin,
  namedMemoryStore,
  runDestinationConformance,
} from '@matric-backup/destination-testkit';
import { describe, it } from 'vitest';

// The testkit's own run against its reference destination: every check must pass.
let store = '';
let count = 0;
runDestinationConformance({
  name: 'in-memory',
  runner: { describe, it },
  plugin: memoryPlugin,
  config: () => {
    store = `conformance-${++count}`;
    return { store };
  },
  // Finished objects plus the bytes of puts still in flight.
  rawList: async () => rawOf(namedMemoryStore(store)),
});

function rawOf(memory: MemoryStore): string[] {
  return [...memory.keys(), ...[...memory.uploads.keys()].map((upload) => `#upload-${upload}`)];
}
