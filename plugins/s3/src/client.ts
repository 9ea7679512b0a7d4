import { S3Client } from '@aws-sdk/client-s3';
import type { S3Config } from './config.js';

/**
 * One SDK client per destination. Credentials come from the block when given,
 * else from the AWS default chain (environment, `profile`, instance roles).
 */
export function createS3Client(config: S3Config): S3Client {
  // The SDK warns on every start under Node 20 that its 2027 releases need Node 22; in a
  // backup that runs from cron that lands in every mail. Set the variable to "false" to see it.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const checksums = config.checksums === 'when_supported' ? 'WHEN_SUPPORTED' : 'WHEN_REQUIRED';
  return new S3Client({
    endpoint: config.endpoint,
    // An S3-compatible endpoint does not care about the region, but the signer needs one.
    region: config.region ?? (config.endpoint ? 'us-east-1' : undefined),
    profile: config.profile,
    forcePathStyle: config.force_path_style ?? config.endpoint !== undefined,
    credentials:
      config.access_key_id !== undefined && config.secret_access_key !== undefined
        ? {
            accessKeyId: config.access_key_id,
            secretAccessKey: config.secret_access_key,
            sessionToken: config.session_token,
          }
        : undefined,
    // Against S3-compatible servers, checksums on every request turn streamed bodies into
    // aws-chunked encoding that some servers store verbatim (test-servers.md).
    requestChecksumCalculation: checksums,
    responseChecksumValidation: checksums,
    // The SDK retries one request (a part, a page) a few times; core retries whole puts.
    maxAttempts: 3,
    requestHandler: { connectionTimeout: 10_000, socketTimeout: 120_000 },
  });
}
