import { MatricError } from '@matric-backup/plugin-api';
import type { LoadedConfig, ResolvedDestination } from '../config/types.js';
import { closestName } from '../util/did-you-mean.js';

/**
 * The destinations of this run: the ones named (even if `enabled: false`, since
 * the user asked for them) in the order named, so `restore -d nas -d local` tries nas
 * first; else every enabled one in config order. Unknown names are a usage error
 * listing the configured ones.
 */
export function selectDestinations(config: LoadedConfig, names?: readonly string[]): ResolvedDestination[] {
  const configured = config.destinations.map((destination) => destination.name);
  if (names && names.length > 0) {
    const unknown = names.filter((name) => !configured.includes(name));
    if (unknown.length > 0) {
      const meant = closestName(unknown[0]!, configured);
      throw new MatricError(
        'USAGE',
        `unknown destination ${unknown.map((name) => JSON.stringify(name)).join(', ')}${meant ? ` (did you mean "${meant}"?)` : ''}; ${config.file} configures ${configured.join(', ')}`,
        { hint: 'pass --destination with one of the configured names' },
      );
    }
    return [...new Set(names)].map(
      (name) => config.destinations.find((destination) => destination.name === name)!,
    );
  }
  const enabled = config.destinations.filter((destination) => destination.enabled);
  if (enabled.length === 0) {
    throw new MatricError('USAGE', `every destination in ${config.file} has enabled: false`, {
      hint: 'enable one, or name one with --destination',
    });
  }
  return enabled;
}
