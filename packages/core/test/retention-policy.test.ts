import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { keepsNothing } from '../src/config/keep-nothing.js';
import type { RetentionPolicy } from '../src/config/schema.js';
import { calendarKeys, isoWeekOf } from '../src/retention/calendar.js';
import { planRetention, type RetentionCandidate } from '../src/retention/policy.js';

const at = (iso: string, size = 1) => ({ id: `backup_${iso}`, createdAt: new Date(iso), size });
const kept = (plan: ReturnType<typeof planRetention>) =>
  plan.filter((d) => d.action === 'keep').map((d) => d.id);

/** The rules written the simplest way: one shard at a time, no shared state. */
function referenceKeep(
  candidates: RetentionCandidate[],
  policy: RetentionPolicy,
  protect: string[],
): Set<string> {
  const sorted = [...candidates].sort(
    (a, b) => b.createdAt.getTime() - a.createdAt.getTime() || (a.id < b.id ? 1 : -1),
  );
  const zone = policy.timezone ?? 'UTC';
  const periods = [
    ['daily', policy.keep_daily],
    ['weekly', policy.keep_weekly],
    ['monthly', policy.keep_monthly],
    ['yearly', policy.keep_yearly],
  ] as const;
  const anyRule = policy.keep_last !== undefined || periods.some(([, n]) => n !== undefined);
  const result = new Set<string>();
  sorted.forEach((shard, index) => {
    if (!anyRule || protect.includes(shard.id) || index < (policy.min_backups ?? 0)) result.add(shard.id);
    if (policy.keep_last !== undefined && index < policy.keep_last) result.add(shard.id);
    for (const [period, count] of periods) {
      if (count === undefined) continue;
      const bucket = calendarKeys(shard.createdAt, zone)[period];
      const newer = sorted.slice(0, index).map((s) => calendarKeys(s.createdAt, zone)[period]);
      const newestOfBucket = !newer.includes(bucket);
      if (newestOfBucket && new Set(newer).size < count) result.add(shard.id);
    }
  });
  return result;
}

const shardsArbitrary = fc
  .uniqueArray(fc.integer({ min: Date.UTC(2024, 0, 1), max: Date.UTC(2027, 0, 1) }), { maxLength: 60 })
  .map((times) => times.map((t, i) => ({ id: `s${i}`, createdAt: new Date(t), size: 1 + (t % 1000) })));
const count = fc.option(fc.integer({ min: 0, max: 8 }), { nil: undefined });
const policyArbitrary = fc.record({
  keep_last: count,
  keep_daily: count,
  keep_weekly: count,
  keep_monthly: count,
  keep_yearly: count,
  min_backups: count,
  timezone: fc.constantFrom(undefined, 'UTC', 'Europe/Berlin', 'America/New_York', 'Pacific/Auckland'),
});

describe('planRetention (property-based against a reference model)', () => {
  it('keeps exactly what the reference keeps', () => {
    fc.assert(
      fc.property(shardsArbitrary, policyArbitrary, fc.nat(), (shards, policy, pick) => {
        const protect = shards.length ? [shards[pick % shards.length]!.id] : [];
        const plan = planRetention(shards, policy, { protect });
        expect(new Set(kept(plan))).toEqual(referenceKeep(shards, policy, protect));
      }),
      { numRuns: 300 },
    );
  });

  it('never deletes the protected shard or the min_backups newest, even under a size limit', () => {
    fc.assert(
      fc.property(
        shardsArbitrary,
        policyArbitrary,
        fc.nat(),
        fc.double({ min: 1e-9, max: 1e-5, noNaN: true }),
        (shards, policy, pick, gb) => {
          const protect = shards.length ? [shards[pick % shards.length]!.id] : [];
          const plan = planRetention(shards, { ...policy, max_total_size_gb: gb }, { protect });
          const min = policy.min_backups ?? 0;
          plan.forEach((decision, index) => {
            if (index < min || protect.includes(decision.id)) expect(decision.action).toBe('keep');
          });
          const total = plan.filter((d) => d.action === 'keep').reduce((sum, d) => sum + d.size, 0);
          const removable = plan.filter((d, i) => d.action === 'keep' && i >= min && !protect.includes(d.id));
          expect(total <= gb * 1024 ** 3 || removable.length === 0).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('is idempotent: planning again over the survivors keeps them all', () => {
    fc.assert(
      fc.property(shardsArbitrary, policyArbitrary, (shards, policy) => {
        const survivors = planRetention(shards, policy).filter((d) => d.action === 'keep');
        expect(planRetention(survivors, policy).every((d) => d.action === 'keep')).toBe(true);
      }),
      { numRuns: 200 },
    );
  });
});

/**
 * Shards that form chains: each is full, or an incremental of an older one
 * (any older one: a chain may fork when a destination missed a link).
 */
const chainedShardsArbitrary = fc
  .tuple(
    fc.uniqueArray(fc.integer({ min: Date.UTC(2024, 0, 1), max: Date.UTC(2027, 0, 1) }), { maxLength: 50 }),
    fc.array(fc.nat(), { minLength: 50, maxLength: 50 }),
  )
  .map(([times, picks]) =>
    [...times]
      .sort((a, b) => a - b)
      .map((t, i): RetentionCandidate => {
        // Half of the picks make a full shard, the rest name an older shard as parent.
        const pick = picks[i]! % (2 * i + 1);
        return {
          id: `s${i}`,
          createdAt: new Date(t),
          size: 1 + (t % 1000),
          ...(pick < i && { parent: `s${pick}` }),
        };
      }),
  );

/** The reference's kept set with every kept shard's ancestors added, one shard at a time. */
function withAncestors(shards: RetentionCandidate[], keep: Set<string>): Set<string> {
  const byId = new Map(shards.map((shard) => [shard.id, shard]));
  const result = new Set(keep);
  for (const id of keep) {
    for (let parent = byId.get(id)?.parent; parent !== undefined; parent = byId.get(parent)?.parent) {
      result.add(parent);
    }
  }
  return result;
}

describe('planRetention keeps chains whole (property-based against a reference model)', () => {
  it('keeps what the reference keeps, plus every shard a kept incremental is restored from', () => {
    fc.assert(
      fc.property(chainedShardsArbitrary, policyArbitrary, fc.nat(), (shards, policy, pick) => {
        const protect = shards.length ? [shards[pick % shards.length]!.id] : [];
        const plan = planRetention(shards, policy, { protect });
        expect(new Set(kept(plan))).toEqual(withAncestors(shards, referenceKeep(shards, policy, protect)));
        const byId = new Map(shards.map((shard) => [shard.id, shard]));
        const byRules = referenceKeep(shards, policy, protect);
        for (const decision of plan) {
          // A shard kept only for a chain says which one, and as what.
          if (decision.action !== 'keep' || !byRules.has(decision.id)) {
            if (decision.action === 'keep') {
              expect(decision.reasons).toHaveLength(1);
              expect(decision.reasons[0]).toMatch(
                byId.get(decision.id)!.parent ? /^parent of s\d+$/ : /^base of s\d+$/,
              );
            }
          }
        }
      }),
      { numRuns: 300 },
    );
  });

  it('never leaves an incremental without its parent, nor deletes what is protected, under a size limit', () => {
    fc.assert(
      fc.property(
        chainedShardsArbitrary,
        policyArbitrary,
        fc.nat(),
        fc.double({ min: 1e-9, max: 1e-5, noNaN: true }),
        (shards, policy, pick, gb) => {
          const protect = shards.length ? [shards[pick % shards.length]!.id] : [];
          const plan = planRetention(shards, { ...policy, max_total_size_gb: gb }, { protect });
          const keptIds = new Set(kept(plan));
          const min = policy.min_backups ?? 0;
          const fixed = (id: string) => protect.includes(id) || plan.findIndex((d) => d.id === id) < min;
          for (const decision of plan) {
            if (fixed(decision.id)) expect(decision.action).toBe('keep');
            if (decision.action === 'keep' && decision.parent) expect(keptIds).toContain(decision.parent);
          }
          const total = plan.filter((d) => d.action === 'keep').reduce((sum, d) => sum + d.size, 0);
          if (total > gb * 1024 ** 3) {
            // Over the limit only when every kept shard is fixed or needed by a fixed one.
            const needed = withAncestors(shards, new Set([...keptIds].filter(fixed)));
            expect([...keptIds].every((id) => needed.has(id))).toBe(true);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('keeps what shards kept elsewhere (dated in the future) are restored from', () => {
    const shards: RetentionCandidate[] = [
      { id: 'b', createdAt: new Date('2026-11-20T00:00:00Z'), size: 1 },
      { id: 'i1', createdAt: new Date('2026-11-21T00:00:00Z'), size: 1, parent: 'b' },
      { id: 'other', createdAt: new Date('2026-11-22T00:00:00Z'), size: 1 },
    ];
    const plan = planRetention(shards, { keep_last: 1 }, { keptElsewhere: [{ id: 'future', parent: 'i1' }] });
    expect(plan.map((d) => [d.id, d.action, d.reasons])).toEqual([
      ['other', 'keep', ['last 1']],
      ['i1', 'keep', ['parent of future']],
      ['b', 'keep', ['base of future']],
    ]);
  });

  it('deletes a base under the size limit only together with its incrementals', () => {
    const gib = 1024 ** 3;
    const shards: RetentionCandidate[] = [
      { id: 'b1', createdAt: new Date('2026-11-20T00:00:00Z'), size: gib },
      { id: 'i1', createdAt: new Date('2026-11-21T00:00:00Z'), size: gib / 4, parent: 'b1' },
      { id: 'b2', createdAt: new Date('2026-11-22T00:00:00Z'), size: gib },
      { id: 'i2', createdAt: new Date('2026-11-23T00:00:00Z'), size: gib / 4, parent: 'b2' },
    ];
    const plan = planRetention(shards, { max_total_size_gb: 1.5 });
    expect(plan.map((d) => [d.id, d.action, d.reasons])).toEqual([
      ['i2', 'keep', ['no keep rules']],
      ['b2', 'keep', ['no keep rules', 'base of i2']],
      ['i1', 'delete', ['size limit: needs b1']],
      ['b1', 'delete', ['size limit']],
    ]);
  });
});

describe('planRetention edge cases', () => {
  it('keeps the newest shard of each day when several fall on one day, skipping empty days', () => {
    const shards = [
      at('2026-11-23T22:00:00Z'),
      at('2026-11-23T08:00:00Z'),
      at('2026-11-20T12:00:00Z'),
      at('2026-11-20T06:00:00Z'),
      at('2026-11-01T12:00:00Z'),
    ];
    const plan = planRetention(shards, { keep_daily: 2 });
    expect(kept(plan)).toEqual(['backup_2026-11-23T22:00:00Z', 'backup_2026-11-20T12:00:00Z']);
    expect(plan[0]!.reasons).toEqual(['daily 2026-11-23']);
    expect(plan[2]!.reasons).toEqual(['daily 2026-11-20']);
  });

  it('buckets days in the configured time zone across a DST change', () => {
    // 2026-03-29 is the spring-forward day in Berlin (UTC+1 -> UTC+2).
    const shards = [at('2026-03-29T21:30:00Z'), at('2026-03-28T23:30:00Z'), at('2026-03-28T22:30:00Z')];
    expect(kept(planRetention(shards, { keep_daily: 3, timezone: 'Europe/Berlin' }))).toEqual([
      'backup_2026-03-29T21:30:00Z',
      'backup_2026-03-28T22:30:00Z',
    ]);
    expect(kept(planRetention(shards, { keep_daily: 3 }))).toEqual([
      'backup_2026-03-29T21:30:00Z',
      'backup_2026-03-28T23:30:00Z',
    ]);
  });

  it('uses ISO weeks across the year boundary (2026-12-31 and 2027-01-03 share 2026-W53)', () => {
    expect(isoWeekOf(2026, 12, 31)).toEqual({ isoYear: 2026, isoWeek: 53 });
    expect(isoWeekOf(2027, 1, 3)).toEqual({ isoYear: 2026, isoWeek: 53 });
    expect(isoWeekOf(2027, 1, 4)).toEqual({ isoYear: 2027, isoWeek: 1 });
    expect(isoWeekOf(2021, 1, 1)).toEqual({ isoYear: 2020, isoWeek: 53 });
    const shards = [at('2027-01-03T10:00:00Z'), at('2026-12-31T10:00:00Z'), at('2026-12-24T10:00:00Z')];
    expect(kept(planRetention(shards, { keep_weekly: 2 }))).toEqual([
      'backup_2027-01-03T10:00:00Z',
      'backup_2026-12-24T10:00:00Z',
    ]);
    expect(kept(planRetention(shards, { keep_yearly: 2 }))).toEqual([
      'backup_2027-01-03T10:00:00Z',
      'backup_2026-12-31T10:00:00Z',
    ]);
  });

  it('ORs rules and records every reason', () => {
    const shards = [at('2026-11-23T10:00:00Z'), at('2026-11-22T10:00:00Z'), at('2026-10-01T10:00:00Z')];
    const plan = planRetention(shards, { keep_last: 1, keep_daily: 1, keep_monthly: 2 });
    expect(plan.map((d) => [d.action, d.reasons])).toEqual([
      ['keep', ['last 1', 'daily 2026-11-23', 'monthly 2026-11']],
      ['delete', []],
      ['keep', ['monthly 2026-10']],
    ]);
  });

  it('keeps everything when no keep rule is set, and trims oldest first under a size limit', () => {
    const gib = 1024 ** 3;
    const shards = [
      at('2026-11-23T00:00:00Z', gib),
      at('2026-11-22T00:00:00Z', gib),
      at('2026-11-21T00:00:00Z', gib),
    ];
    expect(kept(planRetention(shards, {}))).toHaveLength(3);
    const plan = planRetention(shards, { max_total_size_gb: 1.5, min_backups: 0 });
    expect(plan.map((d) => d.action)).toEqual(['keep', 'delete', 'delete']);
    expect(plan[2]!.reasons).toEqual(['size limit']);
  });

  it('never goes below min_backups nor deletes the shard just written, whatever the limit', () => {
    const shards = [
      at('2026-11-23T00:00:00Z', 10),
      at('2026-11-22T00:00:00Z', 10),
      at('2026-11-21T00:00:00Z', 10),
    ];
    const plan = planRetention(
      shards,
      { keep_last: 0, min_backups: 1, max_total_size_gb: 1e-12 },
      {
        protect: ['backup_2026-11-21T00:00:00Z'],
      },
    );
    expect(plan.map((d) => d.action)).toEqual(['keep', 'delete', 'keep']);
    expect(plan[0]!.reasons).toEqual(['min_backups']);
    expect(plan[2]!.reasons).toEqual(['just written']);
  });

  it('keepsNothing: only a policy whose every keep_* rule is 0 and without min_backups', () => {
    expect(keepsNothing({ keep_last: 0 })).toBe('keep_last');
    expect(keepsNothing({ keep_daily: 0, keep_weekly: 0 })).toBe('keep_daily');
    expect(keepsNothing({ keep_last: 0, max_total_size_gb: 5 })).toBe('keep_last');
    expect(keepsNothing({ keep_last: 0, min_backups: 0 })).toBe('keep_last');
    expect(keepsNothing({ keep_last: 0, keep_yearly: 1 })).toBeUndefined();
    expect(keepsNothing({ keep_last: 0, min_backups: 1 })).toBeUndefined();
    expect(keepsNothing({})).toBeUndefined();
    expect(keepsNothing({ max_total_size_gb: 1 })).toBeUndefined();
    // What the check promises: such a policy really deletes every shard in a prune.
    const plan = planRetention([at('2026-11-23T00:00:00Z'), at('2026-11-22T00:00:00Z')], { keep_daily: 0 });
    expect(kept(plan)).toEqual([]);
  });
});
