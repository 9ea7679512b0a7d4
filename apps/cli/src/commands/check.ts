import {
  type CheckResult,
  preflight,
  type ResolvedDestination,
  selectDestinations,
} from '@matric-backup/core';
import { configWarnings, loadCommandConfig, printConfigWarnings } from '../context.js';
import { type DestinationOutcome, onEachDestination } from '../destinations.js';
import { briefError, ExitCode, errorRecord } from '../exit-codes.js';
import { formatCount } from '../output/format.js';
import type { Printer } from '../output/printer.js';
import { command, destinationOption } from './command.js';

interface DestinationCheck {
  name: string;
  type: string;
  required: boolean;
  status: 'ok' | 'failed' | 'disabled';
  details: string[];
  free_bytes?: number;
  error?: { code: string; message: string };
}

export const checkCommand = command((host) => ({
  command: 'check',
  describe:
    'Validate the config and what it needs (source folders, commands, encryption keys), then check each destination',
  builder: (yargs) =>
    destinationOption(yargs, 'Only this destination (repeatable); default: all of them')
      .example('$0 check', 'Is the config valid and can every destination be written?')
      .example('$0 check -c /etc/matric-backup/backup.yaml -d s3-offsite', 'Check one destination'),
  handler: (args) =>
    host.run(async (context) => {
      const { printer } = context;
      const config = await loadCommandConfig(context);
      printConfigWarnings(context, config);
      // What the machine must provide (sources, programs, keys) is a config error too: exit 2, key and line.
      await preflight(config, { scope: 'full', env: context.env });
      const names = args.destination;
      const selected = names ? selectDestinations(config, names) : config.destinations;
      // Checks run in parallel (a slow host should not delay the others) and print in config order.
      // A disabled destination is only checked when named with -d.
      const outcomes = await onEachDestination(
        config,
        selected.filter((destination) => destination.enabled || names !== undefined),
        (opened) => opened.check(),
      );
      const checks = selected.map((destination) =>
        checkOf(
          destination,
          outcomes.find((outcome) => outcome.destination === destination),
        ),
      );
      const failedRequired = checks.filter((check) => check.status === 'failed' && check.required);

      if (printer.json) {
        printer.result({
          config: config.file,
          ok: failedRequired.length === 0,
          warnings: configWarnings(config),
          destinations: checks,
        });
      } else {
        printer.line(
          `config  ${config.file}: valid, ${formatCount(config.backup.sources.length, 'source')}, ${formatCount(config.destinations.length, 'destination')}`,
        );
        for (const check of checks) printCheck(printer, check);
      }
      for (const check of failedRequired) {
        printer.error(
          `${printer.errStyle.bad('error:')} destination "${check.name}": ${check.error?.message}`,
        );
      }
      return failedRequired.length === 0 ? ExitCode.OK : ExitCode.FAILED;
    }),
}));

/** What `check` reports of one destination; without an outcome it was not checked (disabled). */
function checkOf(
  destination: ResolvedDestination,
  outcome: DestinationOutcome<CheckResult> | undefined,
): DestinationCheck {
  const base = { name: destination.name, type: destination.type, required: destination.required };
  if (!outcome) return { ...base, status: 'disabled', details: [] };
  if (!outcome.ok) {
    return {
      ...base,
      status: 'failed',
      details: [briefError(outcome.error)],
      error: errorRecord(outcome.error),
    };
  }
  const { details, freeBytes } = outcome.value;
  return { ...base, status: 'ok', details, ...(freeBytes !== undefined && { free_bytes: freeBytes }) };
}

function printCheck(printer: Printer, check: DestinationCheck): void {
  const { style } = printer;
  const label = `${check.name} (${check.type}${check.required ? '' : ', optional'})`;
  const status = { ok: style.ok('ok'), failed: style.bad('FAILED'), disabled: style.dim('disabled') }[
    check.status
  ];
  // Free space is in --json as a number; plugins already state it in their details for people.
  const facts = check.details;
  printer.line(
    `${status.padEnd(10 + status.length - check.status.length)}${label}${facts.length ? `: ${facts.join('; ')}` : ''}`,
  );
}
