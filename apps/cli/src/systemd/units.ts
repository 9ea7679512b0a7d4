import type { SchedulePlan } from '../serve/schedule-plan.js';
import { cronToOnCalendar } from './on-calendar.js';

export interface UnitInput {
  /** Unit name without suffix, e.g. `matric-backup`. */
  name: string;
  /** backup.name of the config, for Description=. */
  configName: string;
  /** Absolute real path of the config file. */
  configFile: string;
  /** Absolute real path of the `matric-backup` executable. */
  bin: string;
  /** PATH for the units, so that the bin's `#!/usr/bin/env node` finds the node it was installed with. */
  path: string;
  /** Folders the process writes: the state folder (and spool), local destinations, restore roots. */
  writable: string[];
  /** Folders that may be absent (a destination on a disk not always mounted): `-` prefixed. */
  writableIfPresent: string[];
  /** The state folder's path below /var/lib, when it is there: systemd creates it, owned by `user`. */
  stateDirectory?: string;
  /** XDG_STATE_HOME that makes the default state folder the one this config resolved. */
  stateHome?: string;
  /** A dedicated user; undefined = root. */
  user?: string;
}

export interface Unit {
  file: string;
  text: string;
}

/** The oneshot service and its timer, from `backup.schedule`. */
export function timerUnits(input: UnitInput, plan: SchedulePlan): Unit[] {
  const service = unit([
    ['Unit', [`Description=matric-backup run of ${input.configName}`, ...NETWORK, DOCS]],
    [
      'Service',
      [
        'Type=oneshot',
        `ExecStart=${command(input.bin, 'run', '-c', input.configFile)}`,
        ...common(input),
        'Nice=10',
        'IOSchedulingClass=idle',
      ],
    ],
  ]);
  const timer = unit([
    ['Unit', [`Description=matric-backup schedule of ${input.configName}`, DOCS]],
    ['Timer', [...timerSchedule(plan), `Unit=${input.name}.service`]],
    ['Install', ['WantedBy=timers.target']],
  ]);
  return [
    { file: `${input.name}.service`, text: service },
    { file: `${input.name}.timer`, text: timer },
  ];
}

/** The long-running `serve` service; its API socket lives in /run/<name>/. */
export function daemonUnits(input: UnitInput): Unit[] {
  const service = unit([
    ['Unit', [`Description=matric-backup service for ${input.configName}`, ...NETWORK, DOCS]],
    [
      'Service',
      [
        'Type=simple',
        `ExecStart=${command(input.bin, 'serve', '-c', input.configFile)}`,
        'ExecReload=/bin/kill -HUP $MAINPID',
        // SIGTERM to the service only; it ends or aborts its run, then command sources get the rest.
        'KillMode=mixed',
        // Longer than serve's --stop-timeout (5 min) and its abort grace: systemd must not SIGKILL first.
        'TimeoutStopSec=6min',
        'Restart=on-failure',
        'RestartSec=30s',
        `RuntimeDirectory=${input.name}`,
        'RuntimeDirectoryMode=0750',
        ...common(input),
      ],
    ],
    ['Install', ['WantedBy=multi-user.target']],
  ]);
  return [{ file: `${input.name}.service`, text: service }];
}

const DOCS = 'Documentation=https://github.com/matric-backup/matric-backup/blob/main/docs/service.md';
const NETWORK = ['Wants=network-online.target', 'After=network-online.target'];

/** Environment, user and sandbox shared by both services. */
function common(input: UnitInput): string[] {
  const user = input.user
    ? [
        `User=${input.user}`,
        `Group=${input.user}`,
        // Reads every file it backs up, as root would, and nothing more.
        'AmbientCapabilities=CAP_DAC_READ_SEARCH',
        'CapabilityBoundingSet=CAP_DAC_READ_SEARCH',
      ]
    : [];
  const writable = [
    ...input.writable.map(escapeArg),
    ...input.writableIfPresent.map((path) => escapeArg(`-${path}`)),
  ];
  return [
    `Environment=${escapeArg(`PATH=${input.path}`)}`,
    ...(input.stateHome ? [`Environment=${escapeArg(`XDG_STATE_HOME=${input.stateHome}`)}`] : []),
    "# Values for the config's environment references (secrets): readable by root only.",
    `EnvironmentFile=-/etc/${input.name}/env`,
    ...user,
    ...(input.stateDirectory ? [`StateDirectory=${input.stateDirectory}`, 'StateDirectoryMode=0700'] : []),
    'UMask=0077',
    // The whole file system is read-only but the folders the backup writes: a compromised or
    // confused process cannot touch anything else.
    'ProtectSystem=strict',
    'ProtectHome=read-only',
    ...(writable.length ? [`ReadWritePaths=${writable.join(' ')}`] : []),
    'PrivateTmp=true',
    'PrivateDevices=true',
    'NoNewPrivileges=true',
    'ProtectKernelTunables=true',
    'ProtectKernelModules=true',
    'ProtectKernelLogs=true',
    'ProtectControlGroups=true',
    'ProtectClock=true',
    'ProtectHostname=true',
    'RestrictSUIDSGID=true',
    'RestrictRealtime=true',
    'RestrictNamespaces=true',
    'LockPersonality=true',
    'SystemCallArchitectures=native',
    'RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6',
  ];
}

/** When the timer fires; a schedule that runs nothing by itself has no timer. */
function timerSchedule(plan: SchedulePlan): string[] {
  if (plan.kind === 'manual') throw new Error('backup.schedule sets no schedule (manual runs only)');
  const delay = plan.randomDelayMs > 0 ? [`RandomizedDelaySec=${Math.ceil(plan.randomDelayMs / 1000)}`] : [];
  if (plan.kind === 'interval') {
    // Monotonic timers: the first run one interval after boot, then one interval after each run.
    // systemd keeps no record across reboots for them (Persistent= applies to OnCalendar= only).
    const seconds = Math.ceil(plan.intervalMs / 1000);
    return [`OnBootSec=${seconds}`, `OnUnitActiveSec=${seconds}`, ...delay];
  }
  return [
    `OnCalendar=${cronToOnCalendar(plan.pattern, plan.timezone)}`,
    ...delay,
    `Persistent=${plan.catchUp}`,
  ];
}

function unit(sections: Array<[string, string[]]>): string {
  const header = '# Written by `matric-backup systemd`; run it again after changing the config.\n';
  return header + sections.map(([name, lines]) => `[${name}]\n${lines.join('\n')}\n`).join('\n');
}

/** An ExecStart= command line: each word escaped, `$` doubled too (systemd expands variables there). */
function command(...words: string[]): string {
  return words.map((word) => escapeArg(word.replace(/\$/g, '$$$$'))).join(' ');
}

/**
 * One word of a unit file setting: `%` (specifiers) doubled, and quoted with `\\` and `"` escaped
 * when it holds a space, a quote or anything else systemd would split on.
 */
export function escapeArg(word: string): string {
  const escaped = word.replace(/%/g, '%%');
  return /^[A-Za-z0-9_@+=:,./$-]+$/.test(escaped) ? escaped : `"${escaped.replace(/[\\"]/g, '\\$&')}"`;
}
