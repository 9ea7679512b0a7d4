import { dirname } from 'node:path';
import { listPlugins, locateConfig, MatricError } from '@matric-backup/core';
import { builtinPlugins } from '../builtins.js';
import { describeError, ExitCode, exitCodeOf } from '../exit-codes.js';
import { renderTable } from '../output/table.js';
import { command } from './command.js';

export const pluginsCommand = command((host) => ({
  command: 'plugins',
  describe: 'List the destination types available: built-in and installed (matric-backup-plugin-<type>)',
  builder: (yargs) =>
    yargs
      .example('$0 plugins', 'Which destination types can this config use?')
      .example('$0 plugins --json', 'The same, as JSON'),
  handler: () =>
    host.run(async (context) => {
      const { printer } = context;
      const configDir = configFolder(context.global.config, context.cwd, context.env);
      const plugins = await listPlugins({ configDir, builtins: builtinPlugins });
      const broken = plugins.filter((plugin) => plugin.error);
      if (printer.json)
        printer.result({
          plugins: plugins.map((plugin) => ({
            type: plugin.type,
            package_name: plugin.packageName,
            ...(plugin.version !== undefined && { version: plugin.version }),
            source: plugin.source,
            ...(plugin.apiVersion !== undefined && { api_version: plugin.apiVersion }),
            ...(plugin.error !== undefined && { error: plugin.error }),
          })),
        });
      else {
        printer.line(
          renderTable(
            ['TYPE', 'PACKAGE', 'VERSION', 'API', 'SOURCE'],
            plugins.map((plugin) => [
              plugin.type,
              plugin.packageName,
              plugin.version ?? '',
              plugin.apiVersion === undefined ? '' : `v${plugin.apiVersion}`,
              plugin.error ? `${plugin.source}, UNUSABLE: ${plugin.error}` : plugin.source,
            ]),
          ),
        );
      }
      if (broken.length === 0) return ExitCode.OK;
      // The listing is printed either way; the exit code says a plugin cannot be used, as loading it would.
      const packages = [...new Set(broken.map((plugin) => plugin.packageName))];
      const error = new MatricError(
        'PLUGIN_LOAD',
        `${packages.length === 1 ? 'an installed plugin cannot' : `${packages.length} installed plugins cannot`} be used: ${packages.join(', ')}`,
        {
          hint: `upgrade or reinstall it in ${configDir} (\`npm install <package>@latest\`), or uninstall a plugin you do not use`,
        },
      );
      printer.error(describeError(error, printer.verbose));
      return exitCodeOf(error);
    }),
}));

/** Installed plugins are resolved from the config's folder; without a config, from the current one. */
function configFolder(file: string | undefined, cwd: string, env: NodeJS.ProcessEnv): string {
  try {
    return dirname(locateConfig({ file, cwd, env }));
  } catch {
    return cwd;
  }
}
