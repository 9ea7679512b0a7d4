import { KEEP_RULES } from '../config/keep-nothing.js';
import type { RetentionPolicy } from '../config/schema.js';
import { type CalendarKeys, calendarKeys } from './calendar.js';
import { ancestorsOf, type ChainLink, dependentsOf } from './chains.js';

export interface RetentionCandidate {
  id: string;
  createdAt: Date;
  /** Bytes the shard occupies on the destination (archive + sidecar). */
  size: number;
  /** Incremental shards: the shard it was made against, kept whenever this one is. */
  parent?: string;
}

export interface RetentionDecision extends RetentionCandidate {
  action: 'keep' | 'delete';
  /**
   * Why: `last 3`, `daily 2026-11-23`, `weekly 2026-W48`, `min_backups`, `just written`, `size limit`,
   * `base of X` / `parent of X` (a kept incremental needs it), ...
   */
  reasons: string[];
}

export interface RetentionOptions {
  /** Ids that must survive whatever the policy says (the shard just written). */
  protect?: readonly string[];
  /** Shards kept that are not candidates (dated in the future): the candidates they need are kept too. */
  keptElsewhere?: readonly ChainLink[];
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
 * kept and only `max_total_size_gb` can delete. Chains stay whole: a kept
 * incremental keeps every shard it is restored from, and the size limit
 * deletes a shard only with the incrementals that need it, never one of them
 * alone. Pure: the same input always gives the same plan, so `prune --dry-run`
 * shows exactly what prune does.
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

  const elsewhere = options.keptElsewhere ?? [];
  keepAncestors(decisions, elsewhere, keep);
  if (policy.max_total_size_gb !== undefined) {
    applySizeLimit(decisions, policy.max_total_size_gb * 1024 ** 3, minBackups, protectedIds, elsewhere);
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

/**
 * Every shard a kept one is restored from is kept, with the reason: `base of X`
 * for the full shard at the chain's root, `parent of Y` for an incremental
 * between (X the newest kept shard needing it, Y its child on the way).
 */
function keepAncestors(
  decisions: RetentionDecision[],
  elsewhere: readonly ChainLink[],
  keep: (decision: RetentionDecision, reason: string) => void,
): void {
  const links: ChainLink[] = [...elsewhere, ...decisions];
  const byId = new Map(decisions.map((decision) => [decision.id, decision]));
  const done = new Set<string>();
  // Newest first (those kept elsewhere are dated after every candidate): reasons name the newest.
  for (const kept of [...elsewhere, ...decisions.filter((decision) => decision.action === 'keep')]) {
    let child: ChainLink = kept;
    for (const ancestor of ancestorsOf(links, kept.id)) {
      if (done.has(ancestor.id)) break;
      done.add(ancestor.id);
      const decision = byId.get(ancestor.id);
      if (decision)
        keep(decision, decision.parent === undefined ? `base of ${kept.id}` : `parent of ${child.id}`);
      child = ancestor;
    }
  }
}

/**
 * Deletes the oldest shards not protected by min_backups or `protect` until
 * the total fits. A shard goes together with the kept incrementals that need
 * it, and only if none of those is protected either.
 */
function applySizeLimit(
  decisions: RetentionDecision[],
  limitBytes: number,
  minBackups: number,
  protectedIds: ReadonlySet<string>,
  elsewhere: readonly ChainLink[],
): void {
  const indexOf = new Map(decisions.map((decision, index) => [decision.id, index]));
  const fixed = (id: string) => {
    const index = indexOf.get(id);
    return index === undefined || index < minBackups || protectedIds.has(id);
  };
  const links: ChainLink[] = [...decisions, ...elsewhere];
  let total = decisions.reduce((sum, decision) => sum + (decision.action === 'keep' ? decision.size : 0), 0);
  for (let index = decisions.length - 1; index >= minBackups && total > limitBytes; index--) {
    const decision = decisions[index]!;
    if (decision.action !== 'keep' || protectedIds.has(decision.id)) continue;
    const dependents = dependentsOf(links, decision.id).filter(
      (link) => !indexOf.has(link.id) || decisions[indexOf.get(link.id)!]!.action === 'keep',
    );
    if (dependents.some((link) => fixed(link.id))) continue;
    for (const shard of [decision, ...dependents.map((link) => decisions[indexOf.get(link.id)!]!)]) {
      shard.action = 'delete';
      shard.reasons = [shard === decision ? 'size limit' : `size limit: needs ${decision.id}`];
      total -= shard.size;
    }
  }
}
