import { runDestinationConformance } from '@matric-backup/destination-testkit';
import { memoryDestination } from './memory-destination.js';

// The testkit's own run against a correct destination: every check must pass.
let current = memoryDestination();
runDestinationConformance({
  name: 'in-memory',
  factory: async () => (current = memoryDestination()),
  capabilities: { serverSideRename: true, exclusiveCreate: true },
  rawList: async () => current.raw(),
});
