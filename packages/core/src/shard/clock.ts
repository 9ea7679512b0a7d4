/**
 * A shard whose created_at is further ahead of this clock than this was made
 * under a wrong clock (here or on its writer). A few minutes absorb ordinary
 * drift between NTP-synced hosts sharing a destination.
 */
export const FUTURE_TOLERANCE_MS = 5 * 60_000;

export function isFutureDated(createdAt: string | Date, now: Date): boolean {
  const at = typeof createdAt === 'string' ? Date.parse(createdAt) : createdAt.getTime();
  return at - now.getTime() > FUTURE_TOLERANCE_MS;
}
