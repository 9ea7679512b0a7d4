import { deliver } from './http.js';

export interface HealthchecksSettings {
  url?: string;
  start_url?: string;
  success_url?: string;
  fail_url?: string;
  retries: number;
}

export type PingPhase = 'start' | 'success' | 'fail';

/** healthchecks.io accepts up to 100 kB of body; the log's last lines are what matter. */
const MAX_BODY_BYTES = 10_000;

/** The URL of a phase: its own key, else the base `url` (with `/start`, `/fail`); undefined: not pinged. */
export function pingUrl(settings: HealthchecksSettings, phase: PingPhase): string | undefined {
  const own = { start: settings.start_url, success: settings.success_url, fail: settings.fail_url }[phase];
  if (own) return own;
  if (!settings.url) return undefined;
  const base = settings.url.replace(/\/+$/, '');
  return phase === 'success' ? base : `${base}/${phase}`;
}

/** Pings one phase with `body` (the run's log tail, cut from the front to 10 kB). */
export async function ping(
  settings: HealthchecksSettings,
  phase: PingPhase,
  body: string,
  timeoutMs: number,
): Promise<void> {
  const url = pingUrl(settings, phase);
  if (!url) return;
  const bytes = Buffer.from(body);
  const tail = bytes.length > MAX_BODY_BYTES ? `…${bytes.subarray(-MAX_BODY_BYTES).toString()}` : body;
  await deliver(
    {
      url,
      method: 'POST',
      headers: { 'content-type': 'text/plain; charset=utf-8' },
      body: tail,
      what: `healthchecks ${phase} ping`,
    },
    { timeoutMs, retries: settings.retries },
  );
}
