import type { RetentionPolicy } from './schema.js';
import type { ConfigPath, ConfigSource } from './source.js';

/** The retention keys that keep shards by count or by period (`max_total_size_gb` only deletes). */
export const KEEP_RULES = ['keep_last', 'keep_daily', 'keep_weekly', 'keep_monthly', 'keep_yearly'] as const;

/**
 * The keep_* rule that makes `policy` keep no shard at all, or undefined when it
 * keeps some. A policy keeps nothing when it sets at least one keep_* rule, every
 * keep_* rule it sets is 0, and `min_backups` is 0 or unset: `prune` would then
 * delete every shard (the run keeps only the one it just wrote). A policy without
 * any keep_* rule keeps everything, and `max_total_size_gb` alone depends on sizes,
 * so neither counts.
 */
export function keepsNothing(policy: RetentionPolicy): (typeof KEEP_RULES)[number] | undefined {
  const set = KEEP_RULES.filter((key) => policy[key] !== undefined);
  if (set.length === 0 || (policy.min_backups ?? 0) > 0) return undefined;
  return set.every((key) => policy[key] === 0) ? set[0] : undefined;
}

/**
 * Reports a retention policy that would keep no shard (see keepsNothing) as a
 * config error at its zero rule, the way `cleanup --keep 0` is refused: a typo
 * must not turn the next prune into "delete everything". `effective` is the
 * policy as applied (a destination's block merged over backup.retention); the
 * issue points at `own`, the block written at `path`, where the fix goes.
 */
export function reportKeepNothing(
  effective: RetentionPolicy,
  own: RetentionPolicy,
  path: ConfigPath,
  source: ConfigSource,
): void {
  const first = keepsNothing(effective);
  if (!first) return;
  // Every keep_* rule of `effective` is 0: point at one written in this block when there is one.
  const written = KEEP_RULES.find((key) => own[key] !== undefined);
  const rule = written ?? first;
  const inherited = written ? '' : ' (from backup.retention)';
  source.issues.add(
    written ? [...path, written] : path,
    `this policy keeps no shard: ${rule} is 0${inherited}, no other keep_* rule and no min_backups is above 0, so prune would delete every shard; set one of them to 1 or more, or remove the keep_* rules to keep every shard`,
  );
}
