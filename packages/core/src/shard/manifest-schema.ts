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

/**
 * The inner manifest around its entries: `entries` is only checked to be an
 * array here, each entry is checked on its own (parseInnerManifest).
 */
const innerHeaderSchema = z
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
    entries: z.array(z.unknown()),
    warnings: warningsSchema,
    deleted: z.array(z.string().min(1)).optional(),
  })
  .superRefine((manifest, context) => {
    if (manifest.type !== 'incremental') return;
    for (const key of ['parent', 'base', 'deleted'] as const) {
      if (manifest[key] === undefined) {
        context.addIssue({ code: 'custom', path: [key], message: 'required in an incremental shard' });
      }
    }
  });

/** The header's fields checked before `entries`, in the order a problem among them is reported first. */
const BEFORE_ENTRIES = new Set(
  Object.keys(innerHeaderSchema.shape).slice(0, Object.keys(innerHeaderSchema.shape).indexOf('entries')),
);

/** Parses a sidecar's text; the message names the first offending field. */
export function parseShardManifest(text: string): ShardManifest {
  return parseWith(shardManifestSchema, text) as ShardManifest;
}

/**
 * Parses an inner manifest's text; the message names the first offending field
 * (`entries.<n>.<field>` for an entry). Every entry is checked one at a time and
 * the parsed document itself is returned: checked as a whole, zod returned a copy
 * of every entry, ~9 MB more at the end of a restore of 30,000 files. The schemas
 * only check (no defaults, no transforms, unknown keys kept), so the copy was the
 * same document.
 */
export function parseInnerManifest(text: string): InnerManifest {
  const json = parseJson(text);
  const header = innerHeaderSchema.safeParse(json);
  const issues = header.success ? [] : header.error.issues;
  // As zod reports a whole document: the fields before `entries`, the entries, the fields after
  // them, then the checks across fields (appended bytes, an incremental's chain).
  const early = issues.find(
    (issue) =>
      issue.path.length === 0 || (issue.code !== 'custom' && BEFORE_ENTRIES.has(String(issue.path[0]))),
  );
  if (early) throw issueError(early);
  const entries = (json as { entries: unknown }).entries;
  if (Array.isArray(entries)) {
    for (const [index, entry] of entries.entries()) {
      const result = innerEntrySchema.safeParse(entry);
      if (!result.success) throw issueError(result.error.issues[0]!, ['entries', index]);
    }
  }
  const structural = issues.find((issue) => issue.code !== 'custom');
  if (structural) throw issueError(structural);
  const manifest = json as InnerManifest;
  for (const [index, entry] of manifest.entries.entries()) {
    const misfit = appendMisfit(manifest, entry);
    if (misfit !== undefined) throw new Error(`entries.${index}.append: ${misfit}`);
  }
  if (issues.length > 0) throw issueError(issues[0]!);
  return manifest;
}

/**
 * Why an entry's appended bytes cannot be applied, or undefined when it has none or they fit: only a
 * file has content to append to (the other entry types let unknown fields through, `append` with
 * them), only in an incremental shard, and the bytes the file had come before them.
 */
function appendMisfit(manifest: InnerManifest, entry: InnerManifest['entries'][number]): string | undefined {
  if (!('append' in entry) || entry.append === undefined) return undefined;
  if (entry.type !== 'file') return `only a file entry can have appended bytes, not a ${entry.type}`;
  const where = manifest.type === 'incremental' ? '' : ' in a full shard';
  const fits =
    manifest.type === 'incremental' && entry.hardlink === undefined && entry.append.from < (entry.size ?? 0);
  return fits ? undefined : `does not fit a file of ${entry.size} bytes${where}`;
}

function parseWith(schema: z.ZodType, text: string): unknown {
  const result = schema.safeParse(parseJson(text));
  if (!result.success) throw issueError(result.error.issues[0]!);
  return result.data;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new Error(`not JSON: ${(error as Error).message}`);
  }
}

function issueError(issue: z.core.$ZodIssue, at: PropertyKey[] = []): Error {
  const path = [...at, ...issue.path];
  return new Error(`${path.join('.') || '(root)'}: ${issue.message}`);
}
