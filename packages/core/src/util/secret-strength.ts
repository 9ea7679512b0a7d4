/** Below this length a secret may well occur inside other words by chance. */
const MIN_MASKABLE_LENGTH = 6;

/**
 * Words the tool itself prints: its name, commands, shard ids (`backup_...`)
 * and object names, statuses, destination types and config keys. A secret
 * found inside one of them cannot be masked everywhere without rewriting the
 * tool's own output (`matric-***`, `***_20261203_081023`).
 */
const VOCABULARY = [
  'matric-backup backup.yaml backup_ manifest.json sidecar shard tar.zst tar.gz .age .gpg spool state',
  'run list info verify restore prune cleanup delete status history check init plugins latest dry-run',
  'success succeeded warning partial failed failure skipped error hint incomplete foreign keep delete',
  'local s3 sftp rsync smb directory command destination destinations source sources retention',
  'compression encryption recipients identity_file password passphrase secret_access_key token',
  'keep_last keep_daily keep_weekly keep_monthly keep_yearly min_backups max_total_size_gb',
].join(' ');

export type SecretWeakness = 'short' | 'no-letters' | 'vocabulary' | 'config';

/**
 * Why `secret` cannot be masked safely wherever it occurs, or undefined when it
 * can: too short, without letters (it would match dates, sizes and the digits
 * of ids), or part of the tool's own words. `words` adds this config's own
 * (names, paths, the id prefix). Compared without case.
 */
export function secretWeakness(secret: string, words: readonly string[] = []): SecretWeakness | undefined {
  if (secret.length < MIN_MASKABLE_LENGTH) return 'short';
  if (!/\p{L}/u.test(secret)) return 'no-letters';
  const lower = secret.toLowerCase();
  if (VOCABULARY.toLowerCase().includes(lower)) return 'vocabulary';
  if (words.some((word) => word.toLowerCase().includes(lower))) return 'config';
  return undefined;
}
