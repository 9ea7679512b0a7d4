import { readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import { ConfigError } from '@matric-backup/plugin-api';
import type { BuiltinPlugins } from '../plugins/loader.js';
import { redact } from '../util/redact.js';
import { expandEnv } from './expand-env.js';
import { defaultConfigName } from './identity.js';
import { reportKeepNothing } from './keep-nothing.js';
import { type LocateConfigOptions, locateConfig } from './locate.js';
import { defaultStateDir, resolveConfigPath, resolveEncryptionPaths, resolveHookFolders } from './paths.js';
import { type BackupSection, configFileSchema, retentionSchema, type SourceConfig } from './schema.js';
import { resolveSecretRefs, type SecretContext } from './secrets.js';
import { ConfigSource } from './source.js';
import type { LoadedConfig } from './types.js';
import { validateDestinations } from './validate-destinations.js';
import { configWords, weakSecretWarnings } from './weak-secrets.js';
import { reportZodIssues } from './zod-issues.js';

export interface LoadConfigOptions extends LocateConfigOptions {
  /** type -> module of the plugins shipped with the CLI. */
  builtins?: BuiltinPlugins;
}

/**
 * Reads, expands, resolves and validates backup.yaml. Every problem in the file
 * is reported at once, as one ConfigError whose issues carry the key path, line
 * and column, with secret values masked.
 */
export async function loadConfig(options: LoadConfigOptions = {}): Promise<LoadedConfig> {
  const env = options.env ?? process.env;
  const file = locateConfig({ ...options, env });
  const dir = dirname(file);
  const source = ConfigSource.parse(await readConfigText(file), file);
  const { data, expanded } = expandEnv(source, env);
  const backup = isRecord(data) && isRecord(data.backup) ? data.backup : undefined;
  const found: NonNullable<SecretContext['found']> = [];
  const context: SecretContext = { source, dir, env, found };

  const secrets = await resolveNotificationSecrets(backup, context);
  const parsed = configFileSchema.safeParse(data);
  if (!parsed.success)
    reportZodIssues(parsed.error, { source, prefix: [], data, expanded, schema: configFileSchema });
  const blocks = Array.isArray(backup?.destinations) ? backup.destinations : [];
  const retention = retentionSchema.safeParse(backup?.retention).data;
  if (retention) reportKeepNothing(retention, retention, ['backup', 'retention'], source);
  const pluginHints = new Set<string>();
  const destinations = await validateDestinations(blocks, {
    source,
    pluginHints,
    dir,
    env,
    builtins: options.builtins,
    expanded,
    retention,
    found,
  });
  secrets.push(...destinations.secrets);
  if (parsed.success) reportDuplicateSources(parsed.data.backup.sources, source);

  if (!parsed.success || source.issues.length > 0) {
    const issues = source.issues
      .sorted()
      .map((issue) => ({ ...issue, message: redact(issue.message, secrets) }));
    // A plugin that cannot be loaded is fixed by installing or upgrading it, not by editing the file.
    const hint = pluginHints.size > 0 ? [...pluginHints].join('\n      ') : undefined;
    throw new ConfigError(issues, file, { hint });
  }
  const config: LoadedConfig = {
    file,
    dir,
    backup: resolveCorePaths(parsed.data.backup, file, dir, env),
    destinations: destinations.destinations,
    secrets: [...new Set(secrets)],
    positionOf: (path) => source.positionOf(path),
    displayPath: (path) => source.displayPath(path),
  };
  config.warnings = weakSecretWarnings(found, configWords(config), source);
  return config;
}

async function readConfigText(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new ConfigError([{ path: '', message: `cannot read the config file: ${code}` }], file, {
      cause: error,
    });
  }
}

/** `webhook_url` (it carries a token) and `smtp.password` take `_file` / `_command` references too. */
async function resolveNotificationSecrets(
  backup: Record<string, unknown> | undefined,
  context: SecretContext,
): Promise<string[]> {
  const notifications = backup?.notifications;
  if (!isRecord(notifications)) return [];
  const path = ['backup', 'notifications'];
  const secrets = await resolveSecretRefs(notifications, ['webhook_url'], path, context);
  if (isRecord(notifications.smtp)) {
    secrets.push(...(await resolveSecretRefs(notifications.smtp, ['password'], [...path, 'smtp'], context)));
  }
  // Ping and topic URLs carry the check's or topic's secret name: masked, and readable from a file.
  const { healthchecks, ntfy, webhooks } = notifications;
  if (isRecord(healthchecks)) {
    const keys = ['url', 'start_url', 'success_url', 'fail_url'];
    secrets.push(...(await resolveSecretRefs(healthchecks, keys, [...path, 'healthchecks'], context)));
  }
  if (isRecord(ntfy))
    secrets.push(...(await resolveSecretRefs(ntfy, ['url', 'token'], [...path, 'ntfy'], context)));
  if (Array.isArray(webhooks)) {
    for (const [index, webhook] of webhooks.entries()) {
      if (!isRecord(webhook)) continue;
      secrets.push(...(await resolveSecretRefs(webhook, ['url'], [...path, 'webhooks', index], context)));
      if (isRecord(webhook.headers))
        for (const [name, value] of Object.entries(webhook.headers))
          if (typeof value === 'string' && /authorization|token|key|secret/i.test(name)) secrets.push(value);
    }
  }
  return secrets;
}

function reportDuplicateSources(sources: SourceConfig[], source: ConfigSource): void {
  const seen = new Map<string, number>();
  sources.forEach(({ name }, index) => {
    const first = seen.get(name);
    if (first === undefined) seen.set(name, index);
    else
      source.issues.add(
        ['backup', 'sources', index, 'name'],
        `duplicate source name "${name}" (also backup.sources[${first}])`,
      );
  });
}

function resolveCorePaths(
  backup: BackupSection,
  file: string,
  dir: string,
  env: NodeJS.ProcessEnv,
): LoadedConfig['backup'] {
  const { destinations: _validatedSeparately, ...rest } = backup;
  const path = (value: string) => resolveConfigPath(value, dir, env);
  const stateDir = rest.state_dir ? path(rest.state_dir) : defaultStateDir(env);
  const sourceInstance = rest.source_instance ?? hostname();
  return {
    ...rest,
    sources: rest.sources.map((item) => {
      if (item.type === 'directory')
        return {
          ...item,
          path: path(item.path),
          ...(item.exclude_from !== undefined && { exclude_from: path(item.exclude_from) }),
        };
      // A command like ./dump.sh is relative to the config too, like every other path.
      return { ...item, cwd: path(item.cwd ?? '.') };
    }),
    encryption: rest.encryption && resolveEncryptionPaths(rest.encryption, dir, env),
    hooks: rest.hooks && resolveHookFolders(rest.hooks, dir, env),
    api: rest.api && {
      ...rest.api,
      ...(rest.api.socket !== undefined && { socket: path(rest.api.socket) }),
      ...(rest.api.token_file !== undefined && { token_file: path(rest.api.token_file) }),
      restore_roots: rest.api.restore_roots.map(path),
    },
    state_dir: stateDir,
    spool_dir: rest.spool_dir ? path(rest.spool_dir) : join(stateDir, 'spool'),
    source_instance: sourceInstance,
    name: rest.name ?? defaultConfigName(file, rest.sources),
  };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
