import { KEEP_RULES, keepsNothing } from '../retention/policy.js';
import type { RetentionPolicy } from './schema.js';
import type { ConfigPath, ConfigSource } from './source.js';

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
