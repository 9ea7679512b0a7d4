import { BYTE_SIZE_HINT, parseByteSize } from '@matric-backup/plugin-api';
import { z } from 'zod';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

/** S3's own limits on parts; S3-compatible servers follow them. */
const MIN_PART_SIZE = 5 * MiB;
const MAX_PART_SIZE = 5 * GiB;
const MAX_PARTS = 10_000;

const byteSize = (min: number, max: number) =>
  z.union([z.int().positive(), z.string()]).transform((value, ctx) => {
    const bytes = parseByteSize(value);
    if (bytes === undefined) {
      ctx.addIssue({ code: 'custom', message: BYTE_SIZE_HINT });
      return z.NEVER;
    }
    if (bytes < min || bytes > max) {
      ctx.addIssue({ code: 'custom', message: `must be between ${min} and ${max} bytes` });
      return z.NEVER;
    }
    return bytes;
  });

const prefix = z
  .string()
  .default('')
  .transform((value, ctx) => {
    const trimmed = value.replace(/^\/+/, '').replace(/\/+$/, '');
    if (trimmed === '') return '';
    if (
      /\\|\0/.test(trimmed) ||
      trimmed.split('/').some((part) => part === '' || part === '.' || part === '..')
    ) {
      ctx.addIssue({
        code: 'custom',
        message: 'a relative key prefix like "prod/" (no "..", "//" or backslash)',
      });
      return z.NEVER;
    }
    return `${trimmed}/`;
  });

/** The keys of a `type: s3` destination block (the common keys are core's). */
export const s3ConfigSchema = z
  .strictObject({
    /** Custom endpoint for S3-compatible services (MinIO, B2, R2, Wasabi); omit for AWS. */
    endpoint: z
      .url({ protocol: /^https?$/, message: 'an http(s) URL like https://s3.example.com' })
      .optional(),
    bucket: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'a bucket name (letters, digits, . _ -)'),
    /** Folder inside the bucket; normalized to "a/b/" (or empty). */
    prefix,
    /** Defaults to the AWS chain (AWS_REGION, profile), or us-east-1 when an endpoint is set. */
    region: z.string().min(1).optional(),
    /** Named profile of ~/.aws/config and ~/.aws/credentials. */
    profile: z.string().min(1).optional(),
    access_key_id: z.string().min(1).optional(),
    secret_access_key: z.string().min(1).optional(),
    session_token: z.string().min(1).optional(),
    /** Path-style URLs (endpoint/bucket/key); on by default when an endpoint is set. */
    force_path_style: z.boolean().optional(),
    storage_class: z
      .string()
      .regex(/^[A-Z][A-Z_]*$/, 'an S3 storage class like STANDARD_IA or GLACIER_IR')
      .optional(),
    sse: z.enum(['AES256', 'aws:kms']).optional(),
    sse_kms_key_id: z.string().min(1).optional(),
    /** Bytes per multipart part; automatic (>= 8 MiB, <= 10,000 parts) when omitted. */
    part_size: byteSize(MIN_PART_SIZE, MAX_PART_SIZE).optional(),
    /** Objects up to this size go up in one PutObject (held in memory); larger ones as multipart. */
    multipart_threshold: byteSize(1, MAX_PART_SIZE).default(8 * MiB),
    /** Parts uploaded at once. */
    concurrency: z.int().min(1).max(32).default(4),
    /**
     * when_required (default): the SDK adds checksums only where S3 demands them. when_supported:
     * on every request (AWS only; several S3-compatible servers store the aws-chunked framing).
     */
    checksums: z.enum(['when_required', 'when_supported']).default('when_required'),
  })
  .superRefine((config, ctx) => {
    if ((config.access_key_id === undefined) !== (config.secret_access_key === undefined)) {
      ctx.addIssue({
        code: 'custom',
        path: [config.access_key_id === undefined ? 'access_key_id' : 'secret_access_key'],
        message: 'access_key_id and secret_access_key go together',
      });
    }
    if (config.session_token !== undefined && config.access_key_id === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['session_token'],
        message: 'needs access_key_id and secret_access_key',
      });
    }
    if (config.sse_kms_key_id !== undefined && config.sse !== 'aws:kms') {
      ctx.addIssue({ code: 'custom', path: ['sse_kms_key_id'], message: 'only with sse: aws:kms' });
    }
  });

export type S3Config = z.output<typeof s3ConfigSchema>;
export type S3ConfigInput = z.input<typeof s3ConfigSchema>;

/** Automatic part size: at least 8 MiB, whole MiB, and never more than 10,000 parts. */
export function choosePartSize(size: number, configured?: number): number {
  const needed = Math.ceil(size / MAX_PARTS / MiB) * MiB;
  return Math.min(MAX_PART_SIZE, Math.max(configured ?? 8 * MiB, needed));
}

/**
 * Parts held in memory at once are bounded so that a huge shard (and thus huge
 * parts) cannot push memory past ~128 MiB: concurrency shrinks instead.
 */
export function effectiveConcurrency(partSize: number, configured: number): number {
  return Math.max(1, Math.min(configured, Math.floor((128 * MiB) / partSize)));
}
