import type { Destination } from '@matric-backup/plugin-api';
import { MatricError } from '@matric-backup/plugin-api';

const REQUIRED = ['put', 'get', 'list', 'stat', 'delete', 'check', 'close'] as const;
const OPTIONAL = ['deleteMany', 'listTemporary', 'deleteTemporary'] as const;

/**
 * Refuses what a plugin's create() returned unless it has every Destination
 * method, so a broken plugin fails when it is opened, naming what it lacks,
 * instead of half-way through a backup with "x is not a function".
 */
export function assertDestinationShape(value: unknown, type: string): asserts value is Destination {
  const methods = (typeof value === 'object' && value !== null ? value : {}) as Record<string, unknown>;
  const missing = REQUIRED.filter((name) => typeof methods[name] !== 'function');
  const wrong = OPTIONAL.filter((name) => methods[name] !== undefined && typeof methods[name] !== 'function');
  if (missing.length === 0 && wrong.length === 0) return;
  const problems = [
    ...(missing.length > 0 ? [`missing ${missing.join(', ')}`] : []),
    ...(wrong.length > 0 ? [`${wrong.join(', ')} is not a function`] : []),
  ];
  throw new MatricError(
    'PLUGIN_LOAD',
    `the plugin for type ${type} returned an incomplete Destination from create(): ${problems.join('; ')}`,
    {
      hint: `this is a defect of the plugin: run \`matric-backup plugins\` to see which package provides type ${type}, and report it to its author`,
    },
  );
}
