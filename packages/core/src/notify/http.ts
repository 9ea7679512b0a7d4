/** One HTTP request of a notification: where, how, and what to call it in messages. */
export interface Delivery {
  url: string;
  method: 'POST' | 'PUT' | 'PATCH';
  headers: Record<string, string>;
  body: string;
  /** `webhook`, `ntfy`, `healthchecks start` ...: how an error names the channel. */
  what: string;
}

/** The first retry waits this long, each further one twice as long as the one before. */
const FIRST_RETRY_DELAY_MS = 1000;

/**
 * Sends `delivery`, retrying `retries` times after a connection failure, a
 * timeout, HTTP 429 or a 5xx answer: a monitor that blinks must not lose the
 * one message that said a backup failed. A 4xx other than 429 is not retried
 * (the request is wrong, not the server busy). The URL often carries a token,
 * so errors name only its host.
 */
export async function deliver(
  delivery: Delivery,
  options: { timeoutMs: number; retries: number; sleep?: (ms: number) => Promise<void> },
): Promise<void> {
  const sleep = options.sleep ?? ((ms) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  let failure = '';
  for (let attempt = 0; attempt <= options.retries; attempt++) {
    if (attempt > 0) await sleep(FIRST_RETRY_DELAY_MS * 2 ** (attempt - 1));
    let response: Response;
    try {
      response = await fetch(delivery.url, {
        method: delivery.method,
        headers: { 'user-agent': 'matric-backup', ...delivery.headers },
        body: delivery.body,
        signal: AbortSignal.timeout(options.timeoutMs),
      });
    } catch (error) {
      failure =
        (error as Error).name === 'TimeoutError'
          ? `no answer within ${options.timeoutMs} ms`
          : 'connection failed';
      continue;
    }
    await response.body?.cancel();
    if (response.ok) return;
    failure = `HTTP ${response.status}`;
    if (response.status !== 429 && response.status < 500) break;
  }
  const tries = options.retries > 0 ? ` (after ${options.retries + 1} attempts)` : '';
  throw new Error(`${delivery.what}: ${failure} from ${hostOf(delivery.url)}${tries}`);
}

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return 'an invalid URL';
  }
}
