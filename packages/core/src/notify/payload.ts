/** What a notification says about one finished operation; built by the caller from its summary. */
export interface NotificationDestination {
  name: string;
  type: string;
  required: boolean;
  status: 'success' | 'failed' | 'skipped';
  bytes: number;
  attempts: number;
  error?: { code: string; message: string };
}

export interface NotificationInput {
  status: 'success' | 'partial' | 'failed';
  shardId?: string;
  sizeBytes?: number;
  durationMs: number;
  configFile: string;
  host: string;
  destinations: NotificationDestination[];
  error?: { code: string; message: string };
}

export interface NotificationPayload {
  event: 'backup.success' | 'backup.partial' | 'backup.failure';
  status: NotificationInput['status'];
  shard_id: string | null;
  size_bytes: number | null;
  duration_ms: number;
  host: string;
  config: string;
  destinations: NotificationDestination[];
  error: { code: string; message: string } | null;
  /** One line Slack and Mattermost show as the message. */
  text: string;
}

const EVENT = { success: 'backup.success', partial: 'backup.partial', failed: 'backup.failure' } as const;
const HEADLINE = { success: 'succeeded', partial: 'PARTIALLY FAILED', failed: 'FAILED' } as const;

export function buildPayload(input: NotificationInput): NotificationPayload {
  const failed = input.destinations.filter((d) => d.status === 'failed');
  const stored = input.destinations.filter((d) => d.status === 'success').map((d) => d.name);
  const parts = [`matric-backup on ${input.host} ${HEADLINE[input.status]}`];
  if (input.shardId) parts.push(`shard ${input.shardId}`);
  if (stored.length) parts.push(`stored on ${stored.join(', ')}`);
  for (const destination of failed)
    parts.push(`${destination.name}: ${destination.error?.message ?? 'failed'}`);
  if (input.error) parts.push(input.error.message);
  return {
    event: EVENT[input.status],
    status: input.status,
    shard_id: input.shardId ?? null,
    size_bytes: input.sizeBytes ?? null,
    duration_ms: input.durationMs,
    host: input.host,
    config: input.configFile,
    destinations: input.destinations,
    error: input.error ?? null,
    text: parts.join(' — '),
  };
}
