import { command } from './command.js';

export const systemdCommand = command((host) => ({
  command: 'systemd',
  describe:
    'Print (or install) systemd units for this config: a timer and its service, or the `serve` daemon',
  builder: (yargs) =>
    yargs
      .option('timer', {
        type: 'boolean',
        describe: 'A timer from backup.schedule and the oneshot service it starts (the default)',
      })
      .option('daemon', {
        type: 'boolean',
        describe: 'A long-running service for `matric-backup serve` (its API socket in /run/NAME/)',
      })
      .conflicts('timer', 'daemon')
      .option('install', {
        type: 'boolean',
        default: false,
        describe:
          'Write the units into --unit-dir and create the folders they may write, instead of printing them',
      })
      .option('unit-dir', {
        type: 'string',
        requiresArg: true,
        default: '/etc/systemd/system',
        describe: 'Where --install writes the units',
      })
      .option('name', {
        type: 'string',
        requiresArg: true,
        default: 'matric-backup',
        describe: 'Unit name (one per config: matric-backup-db for a second one)',
      })
      .option('user', {
        type: 'string',
        requiresArg: true,
        describe:
          'Run as this dedicated system user (it reads every file through CAP_DAC_READ_SEARCH); default root',
      })
      .option('force', {
        type: 'boolean',
        default: false,
        describe: 'With --install: replace unit files that exist with other content',
      })
      .example('$0 systemd -c /etc/matric-backup/backup.yaml', 'Print the timer and service for this config')
      .example('$0 systemd --install -c /etc/matric-backup/backup.yaml', 'Install them')
      .example(
        '$0 systemd --daemon --user matric-backup --install',
        'Install the serve daemon, run as a dedicated user',
      ),
  handler: (args) =>
    host.run(async (context) => {
      const { systemdUnits } = await import('../systemd/systemd-command.js');
      return systemdUnits(context, {
        daemon: args.daemon === true,
        install: args.install === true,
        unitDir: String(args.unitDir),
        name: String(args.name),
        user: args.user,
        force: args.force === true,
      });
    }),
}));
