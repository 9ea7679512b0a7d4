import type { NotificationPayload } from './payload.js';

/** POSTs the payload as JSON. The URL often carries a token, so it never appears in an error. */
export async function sendWebhook(
  url: string,
  payload: NotificationPayload,
  timeoutMs: number,
): Promise<void> {
  let response: Response;
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'user-agent': 'matric-backup' },
      body: JSON.stringify(payload),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (error) {
    const reason =
      (error as Error).name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : 'connection failed';
    throw new Error(`webhook: ${reason} (${hostOf(url)})`);
  }
  await response.body?.cancel();
  if (!response.ok) throw new Error(`webhook: HTTP ${response.status} from ${hostOf(url)}`);
}

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return 'an invalid URL';
  }
}
