import type { ConfigIssue } from '@matric-backup/plugin-api';
import { type SecretWeakness, secretWeakness } from '../util/secret-strength.js';
import type { ConfigPath, ConfigSource } from './source.js';
import type { LoadedConfig } from './types.js';

const WHY: Record<SecretWeakness, string> = {
  short: 'shorter than 6 characters',
  'no-letters': 'made of digits and punctuation only, like the dates and numbers in ids and messages',
  vocabulary: 'part of words the tool prints itself (its name, commands, shard ids, key names)',
  config: 'part of a name, path or the id prefix of this config',
};

/**
 * A warning (never naming the value) for each secret that cannot be masked
 * safely: messages mask such a secret only where it stands alone as a word, and
 * ids, names and paths are never masked, so it may show inside longer words,
 * and the masked words hint at it. `words` are this config's own names and paths.
 */
export function weakSecretWarnings(
  found: ReadonlyArray<{ path: ConfigPath; value: string }>,
  words: readonly string[],
  source: ConfigSource,
): ConfigIssue[] {
  const warnings: ConfigIssue[] = [];
  for (const { path, value } of found) {
    const weakness = secretWeakness(value, words);
    if (!weakness) continue;
    warnings.push({
      path: source.displayPath(path),
      message: `this secret is too weak to be masked safely in output: it is ${WHY[weakness]}; messages mask it only where it stands alone as a word (ids, names and paths are never masked), so use a longer, random secret`,
      ...source.positionOf(path),
    });
  }
  return warnings;
}

/**
 * The names and paths this config makes the tool print (file, id prefix,
 * state folder, host, source names and paths, destination names and the
 * string settings of each block: host, bucket, path), which a secret must not
 * be part of. Secret values themselves are left out.
 */
export function configWords(
  config: Pick<LoadedConfig, 'file' | 'backup' | 'destinations' | 'secrets'>,
): string[] {
  const { backup } = config;
  const secrets = new Set(config.secrets);
  const words = [
    config.file,
    backup.id_prefix,
    backup.state_dir,
    backup.source_instance,
    ...backup.sources.flatMap((source) => [
      source.name,
      source.type === 'directory' ? source.path : source.filename,
    ]),
    ...config.destinations.flatMap((destination) => [destination.name, ...stringsIn(destination.config)]),
  ];
  return words.filter((word) => !secrets.has(word));
}

function stringsIn(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(stringsIn);
  if (value !== null && typeof value === 'object') return Object.values(value).flatMap(stringsIn);
  return [];
}
