import { defineDestination } from '@matric-backup/plugin-api';
import { s3ConfigSchema } from './config.js';
import { createS3Destination } from './destination.js';

export { type S3Config, type S3ConfigInput, s3ConfigSchema } from './config.js';
export { createS3Destination } from './destination.js';
export { DELETE_BATCH } from './objects.js';

/** `type: s3`: Amazon S3 and S3-compatible stores (MinIO, Backblaze B2, Cloudflare R2, Wasabi, ...). */
export default defineDestination({
  type: 's3',
  configSchema: s3ConfigSchema,
  secretKeys: ['access_key_id', 'secret_access_key', 'session_token'],
  capabilities: {
    // S3's limit for one object.
    maxObjectSize: 5 * 1024 ** 4,
    subsecondModified: false,
  },
  create: (config, context) => createS3Destination(config, context),
  // The prefix is normalized to `a/b/` or empty.
  describe: (config) => `s3://${config.bucket}/${config.prefix}`,
});
