import nodemailer from 'nodemailer';
import type { NotificationPayload } from './payload.js';

export interface SmtpSettings {
  host: string;
  port?: number;
  secure?: boolean;
  username?: string;
  password?: string;
  from?: string;
}

export async function sendEmail(
  smtp: SmtpSettings,
  to: string[],
  payload: NotificationPayload,
  timeoutMs: number,
): Promise<void> {
  const transport = nodemailer.createTransport({
    host: smtp.host,
    port: smtp.port ?? (smtp.secure ? 465 : 587),
    secure: smtp.secure ?? false,
    auth: smtp.username ? { user: smtp.username, pass: smtp.password ?? '' } : undefined,
    connectionTimeout: timeoutMs,
    greetingTimeout: timeoutMs,
    socketTimeout: timeoutMs,
  });
  try {
    await transport.sendMail({
      from: smtp.from ?? `matric-backup <matric-backup@${payload.host}>`,
      to,
      subject: subject(payload),
      text: `${payload.text}\n\n${JSON.stringify(payload, null, 2)}\n`,
    });
  } catch (error) {
    throw new Error(`email via ${smtp.host}: ${(error as Error).message}`);
  } finally {
    transport.close();
  }
}

/** `[matric-backup] db1: verify failed (backup_20250131_020004)`: the operation, its outcome and its shards. */
function subject(payload: NotificationPayload): string {
  const [first, ...more] = payload.shards;
  const shards = first ? ` (${first}${more.length ? ` and ${more.length} more` : ''})` : '';
  return `[matric-backup] ${payload.host}: ${payload.operation} ${payload.status}${shards}`;
}
