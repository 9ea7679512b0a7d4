import type { LoadedConfig, RunEvent } from '@matric-backup/core';
import { formatBytes, formatCount, formatDuration } from './format.js';
import type { Printer } from './printer.js';

/**
 * What `run -v` adds on stderr (never on --json's stdout): each source with the excludes applied to it,
 * then how long each phase took (reading and packing the sources, each upload).
 */
export function createVerboseRunLog(
  printer: Printer,
  config: LoadedConfig,
): { onEvent(event: RunEvent): void } {
  if (!printer.verbose) return { onEvent() {} };
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
