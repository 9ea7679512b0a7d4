import { KEEP_RULES } from '../config/keep-nothing.js';
import type { RetentionPolicy } from '../config/schema.js';
import { type CalendarKeys, calendarKeys } from './calendar.js';

export interface RetentionCandidate {
  id: string;
  createdAt: Date;
  /** Bytes the shard occupies on the destination (archive + sidecar). */
  size: number;
}

export interface RetentionDecision extends RetentionCandidate {
  action: 'keep' | 'delete';
  /** Why: `last 3`, `daily 2026-11-23`, `weekly 2026-W48`, `min_backups`, `just written`, `size limit`, ... */
  reasons: string[];
}

export interface RetentionOptions {
  /** Ids that must survive whatever the policy says (the shard just written). */
  protect?: readonly string[];
}

const PERIODS = [
  ['keep_daily', 'daily'],
  ['keep_weekly', 'weekly'],
  ['keep_monthly', 'monthly'],
  ['keep_yearly', 'yearly'],
] as const;

function hasKeepRules(policy: RetentionPolicy): boolean {
  return KEEP_RULES.some((key) => policy[key] !== undefined);
}

/**
 * Decides keep or delete for every shard, newest first. Rules are ORed;
 * `min_backups` newest always survive; without any keep_* rule every shard is
 * kept and only `max_total_size_gb` can delete. Pure: the same input always
 * gives the same plan, so `prune --dry-run` shows exactly what prune does.
 */
export function planRetention(
  candidates: readonly RetentionCandidate[],
  policy: RetentionPolicy,
  options: RetentionOptions = {},
): RetentionDecision[] {
  const timeZone = policy.timezone ?? 'UTC';
  const sorted = [...candidates].sort(
    (a, b) => b.createdAt.getTime() - a.createdAt.getTime() || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0),
  );
  const decisions: RetentionDecision[] = sorted.map((shard) => ({ ...shard, action: 'delete', reasons: [] }));
  const keep = (decision: RetentionDecision, reason: string) => {
    decision.action = 'keep';
    decision.reasons.push(reason);
  };

  const protectedIds = new Set(options.protect ?? []);
  const minBackups = policy.min_backups ?? 0;
  decisions.forEach((decision, index) => {
    if (protectedIds.has(decision.id)) keep(decision, 'just written');
    if (index < minBackups) keep(decision, 'min_backups');
  });

  if (!hasKeepRules(policy)) {
    for (const decision of decisions) if (decision.action === 'delete') keep(decision, 'no keep rules');
  } else {
    if (policy.keep_last !== undefined) {
      decisions.slice(0, policy.keep_last).forEach((decision, index) => {
        keep(decision, `last ${index + 1}`);
      });
    }
    const keys = decisions.map((decision) => calendarKeys(decision.createdAt, timeZone));
    for (const [ruleKey, period] of PERIODS) {
      const count = policy[ruleKey];
      if (count === undefined) continue;
      keepNewestPerPeriod(decisions, keys, period, count, keep);
    }
  }

  if (policy.max_total_size_gb !== undefined) {
    applySizeLimit(decisions, policy.max_total_size_gb * 1024 ** 3, minBackups, protectedIds);
  }
  return decisions;
}

/** The newest shard of each of the `count` most recent periods that have a shard (empty periods don't count). */
function keepNewestPerPeriod(
  decisions: RetentionDecision[],
  keys: CalendarKeys[],
  period: keyof CalendarKeys,
  count: number,
  keep: (decision: RetentionDecision, reason: string) => void,
): void {
  let seen = 0;
  let previous: string | undefined;
  for (let index = 0; index < decisions.length && seen < count; index++) {
    const bucket = keys[index]![period];
    if (bucket === previous) continue;
    previous = bucket;
    seen++;
    keep(decisions[index]!, `${period} ${bucket}`);
  }
}

/** Deletes the oldest shards not protected by min_backups or `protect` until the total fits. */
function applySizeLimit(
  decisions: RetentionDecision[],
  limitBytes: number,
  minBackups: number,
  protectedIds: ReadonlySet<string>,
): void {
  let total = decisions.reduce((sum, decision) => sum + (decision.action === 'keep' ? decision.size : 0), 0);
  for (let index = decisions.length - 1; index >= minBackups && total > limitBytes; index--) {
    const decision = decisions[index]!;
    if (decision.action !== 'keep' || protectedIds.has(decision.id)) continue;
    decision.action = 'delete';
    decision.reasons = ['size limit'];
    total -= decision.size;
  }
}
