import type { ConfigIssue } from '../errors.js';
import { type SecretWeakness, secretWeakness } from '../util/secret-strength.js';
import { type ConfigPath, type ConfigSource, formatPath } from './source.js';

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
      path: formatPath(path),
      message: `this secret is too weak to be masked safely in output: it is ${WHY[weakness]}; messages mask it only where it stands alone as a word (ids, names and paths are never masked), so use a longer, random secret`,
      ...source.positionOf(path),
    });
  }
  return warnings;
}
