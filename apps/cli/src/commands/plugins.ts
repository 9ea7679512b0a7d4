import { dirname } from 'node:path';
import { listPlugins, locateConfig } from '@matric-backup/core';
import { builtinPlugins } from '../builtins.js';
import { ExitCode } from '../exit-codes.js';
import { renderTable } from '../output/table.js';
import type { CommandSpec } from './command.js';

export const pluginsCommand: CommandSpec = {
  command: 'plugins',
  describe: 'List the destination types available: built-in and installed (matric-backup-plugin-<type>)',
  builder: (yargs) =>
    yargs
      .example('$0 plugins', 'Which destination types can this config use?')
      .example('$0 plugins --json', 'The same, as JSON'),
  async run(_args, context) {
    const { printer } = context;
    const configDir = configFolder(context.global.config, context.cwd, context.env);
    const plugins = await listPlugins({ configDir, builtins: builtinPlugins });
    if (printer.json) printer.result({ plugins });
    else {
      printer.line(
        renderTable(
          ['TYPE', 'PACKAGE', 'VERSION', 'SOURCE'],
          plugins.map((plugin) => [
            plugin.type,
            plugin.packageName,
            plugin.version ?? '',
            plugin.error ? `${plugin.source}: ${plugin.error}` : plugin.source,
          ]),
        ),
      );
    }
    return ExitCode.OK;
  },
};

/** Installed plugins are resolved from the config's folder; without a config, from the current one. */
function configFolder(file: string | undefined, cwd: string, env: NodeJS.ProcessEnv): string {
  try {
    return dirname(locateConfig({ file, cwd, env }));
  } catch {
    return cwd;
  }
}
