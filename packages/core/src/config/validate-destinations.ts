import type { DestinationPlugin } from '@matric-backup/plugin-api';
import { isMatricError } from '@matric-backup/plugin-api';
import { type BuiltinPlugins, loadPlugin } from '../plugins/loader.js';
import { reportKeepNothing } from './keep-nothing.js';
import { resolveConfigPath, resolveHookFolders } from './paths.js';
import { DESTINATION_COMMON_KEYS, destinationCommonSchema, type RetentionPolicy } from './schema.js';
import { resolveSecretRefs } from './secrets.js';
import type { ConfigPath, ConfigSource } from './source.js';
import type { ResolvedDestination } from './types.js';
import { reportZodIssues } from './zod-issues.js';

export interface DestinationContext {
  source: ConfigSource;
  dir: string;
  env: NodeJS.ProcessEnv;
  builtins?: BuiltinPlugins;
  expanded: Map<string, string[]>;
  /** backup.retention, the default each block's own retention is merged over. */
  retention?: RetentionPolicy;
  /** Collects each secret with its key path (see SecretContext). */
  found?: Array<{ path: ConfigPath; value: string }>;
  /** What to do about each plugin that could not be loaded (install it, upgrade it), for the error's hint. */
  pluginHints?: Set<string>;
}

/**
 * Validates each destination block: its common keys with core's schema, the rest
 * with its plugin's schema after secret references and paths were resolved.
 * Disabled blocks are validated too, so enabling one later cannot surprise.
 * Problems go to the source's issue list; a block with any problem is left out.
 * Secrets are returned from every block, valid or not, for masking messages.
 */
export async function validateDestinations(
  blocks: unknown[],
  context: DestinationContext,
): Promise<{ destinations: ResolvedDestination[]; secrets: string[] }> {
  const { source } = context;
  const resolved: ResolvedDestination[] = [];
  // Secrets of invalid blocks too: they are masked in the error messages.
  const allSecrets: string[] = [];
  const names = new Map<string, number>();

  for (const [index, block] of blocks.entries()) {
    const path = ['backup', 'destinations', index];
    if (block === null || typeof block !== 'object' || Array.isArray(block)) {
      source.issues.add(path, 'expected a mapping with at least name and type');
      continue;
    }
    const raw = block as Record<string, unknown>;
    const common = destinationCommonSchema.safeParse(raw);
    if (!common.success)
      reportZodIssues(common.error, { source, prefix: path, data: raw, expanded: context.expanded });

    if (typeof raw.name === 'string') {
      const first = names.get(raw.name);
      if (first === undefined) names.set(raw.name, index);
      else
        source.issues.add(
          [...path, 'name'],
          `duplicate destination name "${raw.name}" (also backup.destinations[${first}])`,
        );
    }
    if (typeof raw.type !== 'string' || raw.type === '') continue;

    const plugin = await findPlugin(raw.type, raw.plugin, path, context);
    if (!plugin) continue;

    const rest = Object.fromEntries(
      Object.entries(raw).filter(([key]) => !(DESTINATION_COMMON_KEYS as readonly string[]).includes(key)),
    );
    const secrets = await resolveSecretRefs(rest, plugin.secretKeys ?? [], path, context);
    allSecrets.push(...secrets);
    for (const key of plugin.pathKeys ?? []) {
      const value = rest[key];
      if (typeof value === 'string' && value !== '')
        rest[key] = resolveConfigPath(value, context.dir, context.env);
    }
    const config = plugin.configSchema.safeParse(rest);
    if (!config.success)
      reportZodIssues(config.error, {
        source,
        prefix: path,
        data: rest,
        expanded: context.expanded,
        schema: plugin.configSchema,
        otherKeys: DESTINATION_COMMON_KEYS,
      });
    if (!common.success || !config.success) continue;

    const { name, type, enabled, required, retention, bandwidth_limit, hooks } = common.data;
    const effective = context.retention || retention ? { ...context.retention, ...retention } : undefined;
    // A block without its own retention inherits backup.retention, which is checked once on its own.
    if (retention && effective) reportKeepNothing(effective, retention, [...path, 'retention'], source);
    resolved.push({
      name,
      type,
      enabled,
      required,
      retention: effective,
      ...(bandwidth_limit !== undefined && { bandwidthLimit: bandwidth_limit }),
      ...(hooks && { hooks: resolveHookFolders(hooks, context.dir, context.env) }),
      plugin,
      config: config.data,
      secrets,
    });
  }
  return { destinations: resolved, secrets: allSecrets };
}

async function findPlugin(
  type: string,
  packageName: unknown,
  path: (string | number)[],
  context: DestinationContext,
): Promise<DestinationPlugin | undefined> {
  const explicit = typeof packageName === 'string' && packageName !== '' ? packageName : undefined;
  try {
    return await loadPlugin(type, {
      packageName: explicit,
      configDir: context.dir,
      builtins: context.builtins,
    });
  } catch (error) {
    if (!isMatricError(error)) throw error;
    context.source.issues.add([...path, explicit ? 'plugin' : 'type'], error.message);
    if (error.hint) context.pluginHints?.add(error.hint);
    return undefined;
  }
}
