import { maskMessages } from '../util/mask-messages.js';
import { redact } from '../util/redact.js';
import type { SmtpSettings } from './email.js';
import { buildPayload, type NotificationInput } from './payload.js';
import { sendWebhook } from './webhook.js';

export interface NotificationSettings {
  on_success: boolean;
  on_failure: boolean;
  webhook_url?: string;
  email?: string | string[];
  smtp?: SmtpSettings;
}

export interface NotificationResult {
  channel: 'webhook' | 'email';
  ok: boolean;
  error?: string;
}

/**
 * Sends the configured notifications for a finished run. Never throws: a failed
 * notification is reported in the result and must not change the run's outcome.
 * A partial run counts as a failure. A run completed with warnings is sent when
 * either is on: whoever hears of successes or of failures wants to hear of it.
 */
export async function notify(
  settings: NotificationSettings | undefined,
  input: NotificationInput,
  options: { secrets?: readonly string[]; timeoutMs?: number } = {},
): Promise<NotificationResult[]> {
  if (!settings) return [];
  const wanted =
    input.status === 'success'
      ? settings.on_success
      : input.status === 'warning'
        ? settings.on_success || settings.on_failure
        : settings.on_failure;
  if (!wanted) return [];
  const secrets = options.secrets ?? [];
  const timeoutMs = options.timeoutMs ?? 10_000;
  // Messages (and the one-line `text`) are masked; the shard id, names and paths stay as they are.
  const payload = maskMessages(buildPayload(input), (text) => redact(text, secrets), ['text']);

  const jobs: Array<[NotificationResult['channel'], () => Promise<void>]> = [];
  if (settings.webhook_url)
    jobs.push(['webhook', () => sendWebhook(settings.webhook_url!, payload, timeoutMs)]);
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
