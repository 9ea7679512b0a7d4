import {
  configWords,
  formatConfigIssue,
  type LoadedConfig,
  loadConfig,
  locateConfig,
  type Warning,
  warning,
} from '@matric-backup/core';
import { builtinPlugins } from './builtins.js';
import type { LogFormat } from './output/event-log.js';
import type { Printer } from './output/printer.js';

/** Options every command accepts. */
export interface GlobalArgs {
  config?: string;
  json: boolean;
  /** How many times -v was given (`-vv`: 2); 0 without it. */
  verbose: number;
  color: boolean;
  /** `--log-format`; unset = text, except `serve` without a terminal: json. */
  logFormat?: LogFormat;
}

export interface CommandContext {
  global: GlobalArgs;
  printer: Printer;
  cwd: string;
  env: NodeJS.ProcessEnv;
}

/**
 * Finds and loads the config (`-c`, $MATRIC_BACKUP_CONFIG, ./backup.yaml, ...),
 * and registers its secrets with the printer before anything else is printed.
 */
export async function loadCommandConfig(context: CommandContext): Promise<LoadedConfig> {
  const { cwd, env } = context;
  const file = locateConfig({ file: context.global.config, cwd, env });
  const config = await loadConfig({ file, cwd, env, builtins: builtinPlugins });
  context.printer.addSecrets(config.secrets, configWords(config));
  context.printer.debug(`config: ${config.file}`);
  return config;
}

/** The config's warnings (a secret too weak to mask safely), printed by `check` and `run`. */
export function printConfigWarnings(context: CommandContext, config: LoadedConfig): void {
  for (const warning of config.warnings ?? []) context.printer.warn(formatConfigIssue(warning, config.file));
}

/** The config's warnings as coded warnings, for a --json document. */
export function configWarnings(config: LoadedConfig): Warning[] {
  return (config.warnings ?? []).map((issue) =>
    warning('WEAK_SECRET', issue.message, {
      key_path: issue.path,
      file: config.file,
      line: issue.line,
      column: issue.column,
    }),
  );
}
