import { z } from 'zod';
import type { InnerManifest, ShardManifest } from './manifest.js';

/**
 * Runtime shapes of the two manifests, for reading them back from a destination
 * or an archive. Unknown fields are kept (loose objects) so a sidecar written by a
 * newer version that only adds fields still reads.
 */

const hex64 = /^[0-9a-f]{64}$/;

const warningsSchema = z
  .array(
    z.looseObject({
      code: z.string(),
      path: z.string(),
      reason: z.string(),
    }),
  )
  .optional();

const originsSchema = z
  .array(
    z.looseObject({
      name: z.string().min(1),
      type: z.enum(['directory', 'command']),
      path: z.string().startsWith('/', 'an absolute path').optional(),
    }),
  )
  .optional();

const shardId = z.string().min(1);

const commonFields = {
  version: z.string(),
  format: z.literal('matric-backup'),
  id: z.string().min(1),
  created_at: z.iso.datetime({ offset: true }),
  timestamp: z.string(),
  created_by: z.string(),
  source_instance: z.string(),
  writer: z
    .looseObject({ name: z.string().min(1), tag: z.string().regex(/^[a-z]{8}$/), run: z.string().min(1) })
    .optional(),
  encryption: z.union([
    z.null(),
    z.looseObject({ method: z.enum(['age', 'gpg']), recipient_count: z.int() }),
  ]),
  compression: z.enum(['zstd', 'gzip', 'none']),
  collections: z.array(z.string()),
  origins: originsSchema,
  counts: z.looseObject({
    files: z.int().nonnegative(),
    directories: z.int().nonnegative(),
    symlinks: z.int().nonnegative(),
    sources: z.int().nonnegative(),
    hardlinks: z.int().nonnegative().optional(),
  }),
  file_count: z.int().nonnegative(),
  size_bytes: z.int().nonnegative(),
  options: z.record(z.string(), z.unknown()),
  object: z.looseObject({ name: z.string().min(1), size: z.int().nonnegative() }),
  checksum: z.string().regex(/^sha256:[0-9a-f]{64}$/, 'sha256:<64 lowercase hex digits>'),
  index: z
    .looseObject({
      name: z.string().min(1),
      size: z.int().nonnegative(),
      checksum: z.string().regex(/^sha256:[0-9a-f]{64}$/, 'sha256:<64 lowercase hex digits>'),
    })
    .optional(),
  warnings: warningsSchema,
};

const count = z.int().nonnegative();

const shardManifestSchema = z.discriminatedUnion('type', [
  z.looseObject({ ...commonFields, type: z.literal('full') }),
  z
    .looseObject({
      ...commonFields,
      type: z.literal('incremental'),
      parent: shardId,
      base: shardId,
      chain_length: z.int().positive(),
      changes: z.looseObject({ created: count, modified: count, deleted: count }),
    })
    .superRefine((manifest, context) => {
      // The first incremental's parent is the base; a later one's parent is another incremental.
      if ((manifest.chain_length === 1) !== (manifest.parent === manifest.base)) {
        context.addIssue({
          code: 'custom',
          path: ['chain_length'],
          message: `${manifest.chain_length} does not fit parent ${manifest.parent} and base ${manifest.base}`,
        });
      }
      if (manifest.parent === manifest.id || manifest.base === manifest.id) {
        context.addIssue({
          code: 'custom',
          path: ['parent'],
          message: 'a shard cannot be its own parent or base',
        });
      }
    }),
]) satisfies z.ZodType<ShardManifest>;

const owner = {
  uid: z.int().nonnegative().optional(),
  gid: z.int().nonnegative().optional(),
  user: z.string().min(1).optional(),
  group: z.string().min(1).optional(),
};

const innerEntrySchema = z.discriminatedUnion('type', [
  z.looseObject({
    path: z.string().min(1),
    type: z.literal('file'),
    mode: z.int(),
    mtime: z.number(),
    size: z.int().nonnegative(),
    sha256: z.string().regex(hex64),
    hardlink: z.string().min(1).optional(),
    append: z
      .looseObject({
        from: z.int().positive(),
        from_sha256: z.string().regex(hex64),
        sha256: z.string().regex(hex64),
      })
      .optional(),
    ...owner,
  }),
  z.looseObject({
    path: z.string().min(1),
    type: z.literal('directory'),
    mode: z.int(),
    mtime: z.number(),
    ...owner,
  }),
  z.looseObject({
    path: z.string().min(1),
    type: z.literal('symlink'),
    mode: z.int(),
    mtime: z.number(),
    target: z.string(),
    ...owner,
  }),
]);

const innerManifestSchema = z
  .looseObject({
    version: z.string(),
    format: z.literal('matric-backup'),
    id: z.string().min(1),
    created_at: z.string(),
    sources: z.array(z.string()),
    origins: originsSchema,
    // Absent in shards written before incrementals existed: those are full.
    type: z.enum(['full', 'incremental']).optional(),
    parent: shardId.optional(),
    base: shardId.optional(),
    entries: z.array(innerEntrySchema),
    warnings: warningsSchema,
    deleted: z.array(z.string().min(1)).optional(),
  })
  .superRefine((manifest, context) => {
    manifest.entries.forEach((entry, index) => {
      if (entry.type !== 'file' || !entry.append) return;
      // Bytes appended to a file of the parent's tree: only an incremental shard has one, and they follow it.
      const fits =
        manifest.type === 'incremental' && entry.hardlink === undefined && entry.append.from < entry.size;
      if (!fits) {
        context.addIssue({
          code: 'custom',
          path: ['entries', index, 'append'],
          message: `does not fit a file of ${entry.size} bytes${manifest.type === 'incremental' ? '' : ' in a full shard'}`,
        });
      }
    });
    if (manifest.type !== 'incremental') return;
    for (const key of ['parent', 'base', 'deleted'] as const) {
      if (manifest[key] === undefined) {
        context.addIssue({ code: 'custom', path: [key], message: 'required in an incremental shard' });
      }
    }
  }) satisfies z.ZodType<InnerManifest>;

/** Parses a sidecar's text; the message names the first offending field. */
export function parseShardManifest(text: string): ShardManifest {
  return parseWith(shardManifestSchema, text) as ShardManifest;
}

export function parseInnerManifest(text: string): InnerManifest {
  return parseWith(innerManifestSchema, text) as InnerManifest;
}

function parseWith(schema: z.ZodType, text: string): unknown {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new Error(`not JSON: ${(error as Error).message}`);
  }
  const result = schema.safeParse(json);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    throw new Error(`${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  return result.data;
}
