import { readFile, realpath, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { type LoadedConfig, MatricError, makeFolders, selectDestinations } from '@matric-backup/core';
import { type CommandContext, loadCommandConfig } from '../context.js';
import { onEachDestination } from '../destinations.js';
import { ExitCode } from '../exit-codes.js';
import { planSchedule } from '../serve/schedule-plan.js';
import { daemonUnits, timerUnits, type Unit, type UnitInput } from './units.js';

export interface SystemdOptions {
  daemon: boolean;
  install: boolean;
  unitDir: string;
  name: string;
  user?: string;
  force: boolean;
}

/** Where systemd looks for programs when a unit sets no PATH. */
const SYSTEMD_PATH = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];

/** `matric-backup systemd`: the units for the loaded config, printed or installed. */
export async function systemdUnits(context: CommandContext, options: SystemdOptions): Promise<ExitCode> {
  const { printer } = context;
  if (!/^[A-Za-z0-9][A-Za-z0-9:_.@-]*$/.test(options.name))
    throw new MatricError('USAGE', `--name ${options.name}: not a unit name`, {
      hint: 'letters, digits and : _ . @ -, e.g. matric-backup-db',
    });
  if (options.user !== undefined && !/^[a-z_][a-z0-9_-]*\$?$/.test(options.user))
    throw new MatricError('USAGE', `--user ${options.user}: not a user name`, {
      hint: 'a system user such as matric-backup (create it with useradd --system)',
    });
  if (options.user === 'nobody' || options.user === 'root')
    throw new MatricError('USAGE', `--user ${options.user}: not a dedicated user`, {
      hint: `leave --user out to run as root, or create one: useradd --system matric-backup`,
    });
  const config = await loadCommandConfig(context);
  const input = await unitInput(config, options);
  let units: Unit[];
  if (options.daemon) units = daemonUnits(input);
  else {
    try {
      units = timerUnits(input, planSchedule(config.backup.schedule));
    } catch (error) {
      throw new MatricError('USAGE', `cannot write a timer for ${config.file}: ${(error as Error).message}`, {
        hint:
          config.backup.schedule === undefined
            ? 'set backup.schedule (e.g. full_backup: daily, time: "02:00"), or use --daemon'
            : 'use a simpler cron expression or the calendar keys, or run the schedule with `systemd --daemon`',
      });
    }
    if (config.backup.schedule?.interval !== undefined)
      printer.warn(
        'an interval timer counts from boot and from the last run; systemd does not catch up a run missed while the machine was off (a calendar schedule or `--daemon` does)',
      );
    if (config.backup.schedule?.run_on_start)
      printer.warn('run_on_start applies to `serve` only; the timer runs at the scheduled times');
  }
  for (const path of [
    ...config.backup.sources.flatMap((source) => (source.type === 'directory' ? [source.path] : [])),
    ...input.writable,
    ...input.writableIfPresent,
  ])
    if (/^\/(var\/)?tmp(\/|$)/.test(path))
      printer.warn(
        `${path} is in /tmp, which the unit replaces with an empty private one (PrivateTmp=true): move it, or remove PrivateTmp= from the unit`,
      );

  if (!options.install) {
    if (printer.json)
      printer.result({ units: units.map((unit) => ({ ...unit, path: join(options.unitDir, unit.file) })) });
    else printer.line(units.map((unit) => `# ${join(options.unitDir, unit.file)}\n${unit.text}`).join('\n'));
    return ExitCode.OK;
  }
  return install(context, options, units, input);
}

async function unitInput(config: LoadedConfig, options: SystemdOptions): Promise<UnitInput> {
  const stateDir = resolve(config.backup.state_dir);
  const underVarLib = relative('/var/lib', stateDir);
  const stateDirectory = underVarLib && !underVarLib.startsWith('..') ? underVarLib : undefined;
  const localDestinations = await onEachDestination(
    config,
    selectDestinations(config),
    async (opened) => opened.localPath,
  );
  const apiRoots = options.daemon ? daemonPaths(config) : [];
  const writable = unique([
    ...(stateDirectory ? [] : [stateDir]),
    ...(isInside(config.backup.spool_dir, stateDir) ? [] : [resolve(config.backup.spool_dir)]),
    ...apiRoots,
  ]);
  // A destination may sit on a disk that is not always mounted: the unit starts without it.
  const writableIfPresent = unique(
    localDestinations.flatMap((outcome) => (outcome.ok && outcome.value ? [resolve(outcome.value)] : [])),
  ).filter((path) => !writable.some((parent) => isInside(path, parent)));
  const nodeDir = dirname(process.execPath);
  return {
    name: options.name,
    configName: config.backup.name,
    configFile: await realpath(config.file),
    bin: await realpath(process.argv[1]!),
    path: [...(SYSTEMD_PATH.includes(nodeDir) ? [] : [nodeDir]), ...SYSTEMD_PATH].join(':'),
    writable,
    writableIfPresent,
    ...(stateDirectory ? { stateDirectory } : {}),
    ...(basename(stateDir) === 'matric-backup' ? { stateHome: dirname(stateDir) } : {}),
    ...(options.user ? { user: options.user } : {}),
  };
}

async function install(
  context: CommandContext,
  options: SystemdOptions,
  units: Unit[],
  input: UnitInput,
): Promise<ExitCode> {
  const { printer } = context;
  const targets = units.map((unit) => ({ ...unit, path: join(options.unitDir, unit.file) }));
  const existing = await Promise.all(
    targets.map((unit) => readFile(unit.path, 'utf8').catch(() => undefined)),
  );
  const conflicts = targets.filter(
    (unit, index) => existing[index] !== undefined && existing[index] !== unit.text,
  );
  if (conflicts.length > 0 && !options.force)
    throw new MatricError(
      'USAGE',
      `${conflicts.map((unit) => unit.path).join(', ')} already exist${conflicts.length === 1 ? 's' : ''} with other content`,
      { hint: 'compare with `matric-backup systemd` (without --install), then pass --force to replace' },
    );
  // The folders the unit must write exist before it starts (systemd refuses to start otherwise). A
  // destination's folder is left alone: it may be on a disk not mounted now, and the run creates it.
  for (const folder of input.writable) await makeFolders(folder, 0o700);
  await makeFolders(options.unitDir);
  for (const [index, unit] of targets.entries()) {
    if (existing[index] === unit.text) continue;
    await writeFile(unit.path, unit.text, { mode: 0o644 });
  }
  const main = options.daemon ? `${options.name}.service` : `${options.name}.timer`;
  if (printer.json) printer.result({ units: targets, installed: true });
  else {
    for (const [index, unit] of targets.entries())
      printer.line(`${existing[index] === unit.text ? 'unchanged' : 'wrote'} ${unit.path}`);
    const absent = [];
    for (const folder of input.writableIfPresent) if (!(await exists(folder))) absent.push(folder);
    if (absent.length > 0)
      printer.line(
        `the unit can write only into destination folders that exist when it starts; not there now: ${absent.join(', ')} (create them, with the disk mounted)`,
      );
    printer.line(`next: systemctl daemon-reload && systemctl enable --now ${main}`);
    if (options.user)
      printer.line(
        `the user ${options.user} must exist and own what the unit writes: useradd --system --no-create-home --shell /usr/sbin/nologin ${options.user}; chown -R ${options.user}: ${[...input.writable, ...input.writableIfPresent].join(' ')}`,
      );
  }
  return ExitCode.OK;
}

/**
 * What the daemon writes besides the state folder: the API's restore roots, and the folder of its
 * socket when `backup.api.socket` puts it outside the unit's RuntimeDirectory.
 */
function daemonPaths(config: LoadedConfig): string[] {
  const api = config.backup.api;
  return [
    ...(api?.restore_roots ?? []).map((root) => resolve(config.dir, root)),
    ...(api?.socket ? [dirname(resolve(config.dir, api.socket))] : []),
  ];
}

function isInside(path: string, parent: string): boolean {
  const rel = relative(resolve(parent), resolve(path));
  return rel === '' || (!rel.startsWith('..') && !rel.startsWith('/'));
}

const exists = (path: string) =>
  stat(path).then(
    () => true,
    () => false,
  );

function unique(paths: string[]): string[] {
  return [...new Set(paths)];
}
