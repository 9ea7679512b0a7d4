import type { DestinationPlugin } from '@matric-backup/plugin-api';

/**
 * The config through the plugin's own schema, as matric-backup validates a
 * destination block; refused keys are listed with their paths, so a test config
 * that a user could not write fails here rather than deep inside a check.
 */
export function parseConfig(plugin: DestinationPlugin, config: unknown): unknown {
  const result = plugin.configSchema.safeParse(config);
  if (result.success) return result.data;
  const issues = result.error.issues.map(
    (issue) => `  ${issue.path.length ? issue.path.join('.') : '(the block)'}: ${issue.message}`,
  );
  throw new Error(
    `the config for type ${plugin.type} does not match its configSchema:\n${issues.join('\n')}`,
  );
}
