import { createHash } from 'node:crypto';
import { basename, extname } from 'node:path';
import type { SourceConfig } from './schema.js';

/**
 * The config's name when `backup.name` is not set: `<config file name without
 * extension>-<8 hex digits>`, the digits hashing each source's name and what it
 * reads (path or command) as written in the file. It survives moving the config
 * file to another folder; renaming the file or changing a source's path or
 * command gives a new name. Two configs differ unless they share file name and
 * sources. An explicit `backup.name` never changes. (A config is its name on
 * its source instance: the same name on two hosts is two writers.)
 */
export function defaultConfigName(file: string, sources: readonly SourceConfig[]): string {
  const stem = basename(file, extname(file));
  const described = sources.map((source) =>
    source.type === 'directory'
      ? ['directory', source.name, source.path]
      : ['command', source.name, ...source.command],
  );
  const digest = createHash('sha256').update(JSON.stringify(described)).digest('hex').slice(0, 8);
  return `${stem}-${digest}`;
}
