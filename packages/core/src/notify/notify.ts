import { maskMessages } from '../util/mask-messages.js';
import { redact } from '../util/redact.js';
import type { SmtpSettings } from './email.js';
import { type HealthchecksSettings, type PingPhase, ping } from './healthchecks.js';
import { type NtfySettings, sendNtfy } from './ntfy.js';
import { buildPayload, type NotificationInput, type NotificationPayload } from './payload.js';
import { sendWebhook, type WebhookTarget } from './webhook.js';

export interface NotificationSettings {
  on_success: boolean;
  on_failure: boolean;
  /** The short form of one webhook: POST, no headers, two retries. */
  webhook_url?: string;
  webhooks?: WebhookTarget[];
  healthchecks?: HealthchecksSettings;
  ntfy?: NtfySettings;
  email?: string | string[];
  smtp?: SmtpSettings;
}

export interface NotificationResult {
  channel: 'webhook' | 'email' | 'ntfy' | 'healthchecks';
  ok: boolean;
  error?: string;
}

interface SendOptions {
  secrets?: readonly string[];
  timeoutMs?: number;
}

/**
 * Sends the configured notifications for a finished operation. Never throws: a
 * failed notification is reported in the result and must not change the
 * outcome. Webhooks, ntfy and mail follow on_success / on_failure (a partial
 * run counts as a failure; a run completed with warnings is sent when either
 * is on: whoever hears of successes or of failures wants to hear of it).
 * healthchecks pings are sent whatever those say, for `backup.*` events only
 * (not `backup.locked`): a dead man's switch must hear of every run.
 */
export async function notify(
  settings: NotificationSettings | undefined,
  input: NotificationInput,
  options: SendOptions = {},
): Promise<NotificationResult[]> {
  if (!settings) return [];
  const wanted =
    input.status === 'success'
      ? settings.on_success
      : input.status === 'warning'
        ? settings.on_success || settings.on_failure
        : settings.on_failure;
  const secrets = options.secrets ?? [];
  const timeoutMs = options.timeoutMs ?? 10_000;
  // Messages (and the one-line `text`) are masked; the shard id, names and paths stay as they are.
  const payload = maskMessages(buildPayload(input), (text) => redact(text, secrets), ['text']);

  const jobs: Array<[NotificationResult['channel'], () => Promise<void>]> = [];
  // A run refused by the lock pings nothing: the run holding it pings for both.
  const pinged = payload.event.startsWith('backup.') && payload.event !== 'backup.locked';
  if (settings.healthchecks && pinged) {
    const phase: PingPhase = input.status === 'success' || input.status === 'warning' ? 'success' : 'fail';
    const body = [payload.text, ...(input.log ?? [])].map((line) => redact(line, secrets)).join('\n');
    jobs.push(['healthchecks', () => ping(settings.healthchecks!, phase, `${body}\n`, timeoutMs)]);
  }
  if (wanted) jobs.push(...channels(settings, payload, timeoutMs));
  return settle(jobs, secrets);
}

/** The `start` ping of a run (healthchecks measures the run's duration from it); never throws. */
export async function notifyStart(
  settings: NotificationSettings | undefined,
  text: string,
  options: SendOptions = {},
): Promise<NotificationResult[]> {
  if (!settings?.healthchecks) return [];
  const timeoutMs = options.timeoutMs ?? 10_000;
  return settle(
    [['healthchecks', () => ping(settings.healthchecks!, 'start', `${text}\n`, timeoutMs)]],
    options.secrets ?? [],
  );
}

function channels(
  settings: NotificationSettings,
  payload: NotificationPayload,
  timeoutMs: number,
): Array<[NotificationResult['channel'], () => Promise<void>]> {
  const jobs: Array<[NotificationResult['channel'], () => Promise<void>]> = [];
  const webhooks = [...(settings.webhooks ?? [])];
  if (settings.webhook_url)
    webhooks.unshift({ url: settings.webhook_url, method: 'POST', headers: {}, retries: 2 });
  for (const target of webhooks) jobs.push(['webhook', () => sendWebhook(target, payload, timeoutMs)]);
  if (settings.ntfy) jobs.push(['ntfy', () => sendNtfy(settings.ntfy!, payload, timeoutMs)]);
  const recipients = settings.email === undefined ? [] : [settings.email].flat();
  if (recipients.length) {
    jobs.push([
      'email',
      async () => {
        if (!settings.smtp) throw new Error('email: backup.notifications.smtp is not configured');
        // nodemailer is loaded only when mail goes out: every CLI start would pay for it otherwise
        const { sendEmail } = await import('./email.js');
        await sendEmail(settings.smtp, recipients, payload, timeoutMs);
      },
    ]);
  }
  return jobs;
}

function settle(
  jobs: Array<[NotificationResult['channel'], () => Promise<void>]>,
  secrets: readonly string[],
): Promise<NotificationResult[]> {
  return Promise.all(
    jobs.map(async ([channel, send]) => {
      try {
        await send();
        return { channel, ok: true };
      } catch (error) {
        return { channel, ok: false, error: redact((error as Error).message, secrets) };
      }
    }),
  );
}
