import { deliver } from './http.js';
import type { NotificationPayload } from './payload.js';

export interface NtfySettings {
  url: string;
  token?: string;
  priority?: number;
  tags: string[];
  retries: number;
}

/** Publishes the one-line text to an ntfy topic, titled with the host and the event. */
export async function sendNtfy(
  settings: NtfySettings,
  payload: NotificationPayload,
  timeoutMs: number,
): Promise<void> {
  const failed = payload.status === 'failed' || payload.status === 'partial';
  const headers: Record<string, string> = {
    title: `matric-backup ${payload.host}: ${payload.event}`,
    priority: String(settings.priority ?? (failed ? 4 : 3)),
    tags: [
      failed ? 'warning' : payload.status === 'warning' ? 'grey_exclamation' : 'white_check_mark',
      ...settings.tags,
    ].join(','),
    'content-type': 'text/plain; charset=utf-8',
  };
  if (settings.token) headers.authorization = `Bearer ${settings.token}`;
  await deliver(
    { url: settings.url, method: 'POST', headers, body: payload.text, what: 'ntfy' },
    { timeoutMs, retries: settings.retries },
  );
}
