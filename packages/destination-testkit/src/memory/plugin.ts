import { defineDestination } from '@matric-backup/plugin-api';
import { z } from 'zod';
import { memoryDestination } from './destination.js';
import { MemoryStore, namedMemoryStore } from './store.js';

/**
 * `type: memory`: destinations kept in this process's memory. Without `store`
 * every destination starts empty; with `store: name` all destinations of that
 * name share one store (see namedMemoryStore), like two configs on one bucket.
 */
export const memoryPlugin = defineDestination({
  type: 'memory',
  configSchema: z.strictObject({ store: z.string().min(1).optional() }),
  capabilities: { subsecondModified: true, exclusiveCreate: true },
  create: (config) =>
    memoryDestination(config.store === undefined ? new MemoryStore() : namedMemoryStore(config.store)),
});
