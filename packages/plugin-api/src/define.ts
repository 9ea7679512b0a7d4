import type { z } from 'zod';
import { DESTINATION_API_VERSION, type DestinationPlugin } from './types.js';

/**
 * The one way a plugin describes itself. It stamps the API version of this SDK:
 * a plugin depends on the SDK itself (not on the CLI's core), within one major,
 * and every release of a major speaks one API version, so the stamp is the
 * version the plugin was built against, whichever matric-backup loads it.
 */
export function defineDestination<Schema extends z.ZodType>(
  plugin: Omit<DestinationPlugin<Schema>, 'apiVersion'>,
): DestinationPlugin<Schema> {
  return { apiVersion: DESTINATION_API_VERSION, ...plugin };
}
