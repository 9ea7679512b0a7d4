/**
 * JSON schemas of the API's requests and answers: Fastify validates requests
 * with them and @fastify/swagger builds the OpenAPI document from them.
 * Answers are open objects (results carry every field of core's results).
 */
const SHARD_ID = {
  type: 'string',
  description: 'Shard id, e.g. backup_20250131_020004_kqzmbtwa, or `latest`',
  maxLength: 200,
} as const;

export const idParams = {
  type: 'object',
  required: ['id'],
  properties: { id: SHARD_ID },
} as const;

const destinations = {
  type: 'array',
  items: { type: 'string' },
  description: 'Only these destinations (by name); default every enabled one',
} as const;

export const destinationsBody = {
  type: 'object',
  additionalProperties: false,
  properties: { destinations },
} as const;

export const destinationQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    destination: { ...destinations, description: 'Only this destination (repeatable)' },
  },
} as const;

export const deleteQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    destination: { ...destinations, description: 'Only from this destination (repeatable)' },
    with_dependents: {
      type: 'boolean',
      description:
        'Also delete the incremental shards restored through this one (else such a shard is refused)',
    },
  },
} as const;

export const listQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    destination: { ...destinations, description: 'Only this destination (repeatable)' },
    own: { type: 'boolean', description: "Only this config's shards" },
  },
} as const;

export const createBody = {
  type: 'object',
  additionalProperties: false,
  properties: {
    destinations,
    dry_run: {
      type: 'boolean',
      description: 'Read the sources and report what would be stored; write nothing',
    },
    prune: { type: 'boolean', description: 'Apply retention after storing (default true)' },
  },
} as const;

export const restoreBody = {
  type: 'object',
  additionalProperties: false,
  required: ['to'],
  properties: {
    to: { type: 'string', description: 'Absolute target folder inside one of backup.api.restore_roots' },
    conflict: {
      type: 'string',
      enum: ['skip_existing', 'overwrite', 'merge', 'rename_new'],
      description: 'For entries that exist in the target; without it the target must be new or empty',
    },
    include: {
      type: 'array',
      items: { type: 'string' },
      description: 'Only archive paths matching these globs',
    },
    dry_run: { type: 'boolean', description: 'Check the shard and plan every entry; write nothing' },
    destinations,
  },
} as const;

export const copyBody = {
  type: 'object',
  additionalProperties: false,
  required: ['from', 'to'],
  properties: {
    ids: {
      type: 'array',
      items: SHARD_ID,
      minItems: 1,
      description: 'The shards to copy (an incremental brings the links of its chain the target lacks)',
    },
    all: { type: 'boolean', description: 'Every complete shard of the source instead of ids' },
    from: { type: 'string', description: 'The destination to copy from (by name; may be disabled)' },
    to: { type: 'string', description: 'The destination to copy to (by name; may be disabled)' },
    dry_run: { type: 'boolean', description: 'Report what would be copied; write nothing' },
  },
} as const;

export const jobParams = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string', description: 'Job id, as returned by a 202 answer' } },
} as const;

const error = {
  type: 'object',
  properties: {
    success: { const: false },
    error: {
      type: 'object',
      required: ['code', 'message'],
      properties: { code: { type: 'string' }, message: { type: 'string' }, details: {} },
    },
  },
} as const;

const ok = {
  type: 'object',
  properties: { success: { const: true }, data: { type: 'object', additionalProperties: true } },
} as const;

const accepted = {
  type: 'object',
  properties: {
    success: { const: true },
    data: {
      type: 'object',
      additionalProperties: true,
      properties: {
        job_id: { type: 'string' },
        kind: { type: 'string' },
        status: { type: 'string' },
        href: { type: 'string', description: 'Poll this for progress and the outcome' },
      },
    },
  },
} as const;

const failures = {
  400: error,
  401: error,
  403: error,
  404: error,
  409: error,
  500: error,
  503: error,
} as const;

/** Answers of a read: 200 with `data`. */
export const okResponses = { 200: ok, ...failures } as const;
/** Answers of a long operation: 202 with the job to poll. */
export const acceptedResponses = { 202: accepted, ...failures } as const;
