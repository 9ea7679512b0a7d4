import type { FileEvent, LoadedConfig, RunEvent } from '@matric-backup/core';
import { formatBytes, formatCount, formatDuration } from './format.js';
import type { Printer } from './printer.js';

/**
 * What `run -v` adds on stderr (never on --json's stdout): each source with the excludes applied to it,
 * then how long each phase took (reading and packing the sources, each upload). `-vv` adds every
 * file as it is stored (`new`/`changed` in an incremental, with the count of unchanged ones at
 * the end) and every path an exclude rule left out, with the rule, a line each as it happens.
 */
export function createVerboseRunLog(
  printer: Printer,
  config: LoadedConfig,
  verbosity = printer.verbose ? 1 : 0,
): { onEvent(event: RunEvent): void; onFile?: (event: FileEvent) => void } {
  if (!printer.verbose || verbosity < 1) return { onEvent() {} };
  for (const source of config.backup.sources) {
    if (source.type === 'command') {
      printer.debug(`source ${source.name}: command ${source.command.join(' ')} -> ${source.filename}`);
      continue;
    }
    const rules = [
      ...(source.include ?? []).map((glob) => `include ${glob}`),
      ...(source.exclude ?? []).map((glob) => `exclude ${glob}`),
      ...(source.exclude_from ? [`exclude_from ${source.exclude_from}`] : []),
      ...[source.exclude_if_present ?? []].flat().map((name) => `exclude_if_present ${name}`),
      ...(source.one_file_system ? ['one_file_system'] : []),
    ];
    printer.debug(
      `source ${source.name}: ${source.path}${rules.length ? ` (${rules.join(', ')})` : ' (no excludes)'}`,
    );
  }
  const started = new Map<string, number>();
  return {
    ...(verbosity >= 2 && { onFile: (event: FileEvent) => printer.debug(fileLine(event)) }),
    onEvent(event) {
      if (event.type === 'archive-start') started.set('archive', performance.now());
      else if (event.type === 'archive-done') {
        const took = performance.now() - (started.get('archive') ?? performance.now());
        printer.debug(
          `timing: sources read and packed in ${formatDuration(took)}: ${formatCount(event.files, 'file')}, ${formatBytes(event.bytesIn)} read, ${formatBytes(event.bytesOut)} written`,
        );
      } else if (event.type === 'upload-start') started.set(`upload ${event.destination}`, performance.now());
      else if (event.type === 'upload-done') {
        const took = performance.now() - (started.get(`upload ${event.destination}`) ?? performance.now());
        printer.debug(`timing: upload to ${event.destination} ${event.status} in ${formatDuration(took)}`);
      }
    },
  };
}

/** One line of `run -vv`: what happened to the path, padded so the paths line up. */
function fileLine(event: FileEvent): string {
  if (event.type === 'unchanged') return `unchanged ${formatCount(event.files, 'file')} (not stored again)`;
  if (event.type === 'excluded') return `excluded  ${event.path} (${event.rule})`;
  return `${(event.change ?? 'stored').padEnd(9)} ${event.path}`;
}
