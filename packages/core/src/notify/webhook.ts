import { deliver } from './http.js';
import type { NotificationPayload } from './payload.js';

export interface WebhookTarget {
  url: string;
  method: 'POST' | 'PUT' | 'PATCH';
  headers: Record<string, string>;
  retries: number;
}

/** Sends the payload as JSON with the target's method and headers (its own content-type wins). */
export async function sendWebhook(
  target: WebhookTarget,
  payload: NotificationPayload,
  timeoutMs: number,
): Promise<void> {
  await deliver(
    {
      url: target.url,
      method: target.method,
      headers: { 'content-type': 'application/json', ...target.headers },
      body: JSON.stringify(payload),
      what: 'webhook',
    },
    { timeoutMs, retries: target.retries },
  );
}
