import type { z } from 'zod';
import { DESTINATION_API_VERSION, type DestinationPlugin } from './types.js';

/**
 * The one way a plugin describes itself. It stamps the API version this core was
 * built with, so a plugin compiled against another major is refused at load time.
 */
export function defineDestination<Schema extends z.ZodType>(
  plugin: Omit<DestinationPlugin<Schema>, 'apiVersion'>,
): DestinationPlugin<Schema> {
  return { apiVersion: DESTINATION_API_VERSION, ...plugin };
}
