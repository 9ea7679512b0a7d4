import { MatricError } from '@matric-backup/plugin-api';
import type { LoadedConfig, ResolvedDestination } from '../config/types.js';

/**
 * The destinations of this run: the ones named (even if `enabled: false`, since
 * the user asked for them), else every enabled one. Unknown names are a usage
 * error listing the configured ones.
 */
export function selectDestinations(config: LoadedConfig, names?: readonly string[]): ResolvedDestination[] {
  const configured = config.destinations.map((destination) => destination.name);
  if (names && names.length > 0) {
    const unknown = names.filter((name) => !configured.includes(name));
    if (unknown.length > 0) {
      throw new MatricError(
        'USAGE',
        `unknown destination ${unknown.map((name) => JSON.stringify(name)).join(', ')}; ${config.file} configures ${configured.join(', ')}`,
        { hint: 'pass --destination with one of the configured names' },
      );
    }
    return config.destinations.filter((destination) => names.includes(destination.name));
  }
  const enabled = config.destinations.filter((destination) => destination.enabled);
  if (enabled.length === 0) {
    throw new MatricError('USAGE', `every destination in ${config.file} has enabled: false`, {
      hint: 'enable one, or name one with --destination',
    });
  }
  return enabled;
}
