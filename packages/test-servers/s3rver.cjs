'use strict';
// Runs s3rver for the tests in its own process (started by src/s3.ts under
// `node --openssl-legacy-provider`), so that a test can kill the server mid-upload.
// argv[2] is JSON: { s3rverMain, port, directory, bucket }.
const fs = require('node:fs');
const path = require('node:path');
const { createHash, createHmac } = require('node:crypto');
const { createRequire } = require('node:module');

const options = JSON.parse(process.argv[2]);
const S3rver = require(options.s3rverMain);
const fromS3rver = createRequire(options.s3rverMain);
const authentication = fromS3rver('./middleware/authentication');
const S3Error = fromS3rver('./models/error');
const AWSAccount = fromS3rver('./models/account');
const objectController = fromS3rver('./controllers/object');
const xmlParser = fromS3rver('fast-xml-parser');
const he = fromS3rver('he');

// s3rver 3.7.1 streams a PutObject straight into the object's file, so two PUTs of one
// key at once interleave their bytes (one race test in four failed on it). S3 stores
// either whole object; so does this: each body goes to a file of its own, renamed into place.
const FilesystemStore = fromS3rver('./stores/filesystem');
FilesystemStore.prototype.putObject = async function putObject(object) {
  const objectPath = this.getResourcePath(object.bucket, object.key, 'object');
  fs.mkdirSync(path.dirname(objectPath), { recursive: true });
  const temporary = `${objectPath}.${process.pid}-${Math.random().toString(16).slice(2)}.put`;
  const md5 = createHash('md5');
  let size = 0;
  const chunks = Buffer.isBuffer(object.content) ? [object.content] : object.content;
  const file = fs.createWriteStream(temporary);
  try {
    for await (const chunk of chunks) {
      md5.update(chunk);
      size += chunk.length;
      if (!file.write(chunk)) await new Promise((resolve) => file.once('drain', resolve));
    }
    await new Promise((resolve, reject) => file.end((error) => (error ? reject(error) : resolve())));
    fs.renameSync(temporary, objectPath);
  } catch (error) {
    file.destroy();
    fs.rmSync(temporary, { force: true });
    throw error;
  }
  const digest = md5.digest('hex');
  await this.putMetadata(object.bucket, object.key, object.metadata, digest);
  return { size, md5: digest };
};

// s3rver 3.7.1 answers AbortMultipartUpload with MethodNotAllowed and keeps the parts
// forever, so a client's cleanup could never be observed. This adds the operation
// with S3's semantics (signed request; the upload's parts are removed; NoSuchUpload
// when unknown). Parts live in <directory>/<bucket>/._S3rver_uploads/<uploadId>/.
// s3rver 3.7.1 accepts any Signature Version 4 ("unimplemented"), so a wrong secret key
// would pass. This checks SigV4 Authorization headers the way S3 does; an unknown key id
// is left to s3rver, which answers InvalidAccessKeyId.
async function verifySignatureV4(ctx, next) {
  const auth =
    /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]+)$/.exec(
      ctx.get('authorization'),
    );
  const secret = auth && AWSAccount.registry.get(auth[1])?.accessKeys.get(auth[1]);
  if (!secret) return next();
  const [, , date, region, service, signedHeaders, signature] = auth;
  const [rawPath, rawQuery = ''] = ctx.req.url.split('?');
  const query = rawQuery
    .split('&')
    .filter(Boolean)
    .map((pair) => pair.split('=').map((part) => encodeRfc3986(decodeURIComponent(part ?? ''))))
    .map(([key, value = '']) => `${key}=${value}`)
    .sort();
  const headers = signedHeaders.split(';').map(
    (name) =>
      `${name}:${String(ctx.req.headers[name] ?? '')
        .trim()
        .replace(/\s+/g, ' ')}\n`,
  );
  const canonicalRequest = [
    ctx.method,
    rawPath,
    query.join('&'),
    headers.join(''),
    signedHeaders,
    ctx.get('x-amz-content-sha256') || 'UNSIGNED-PAYLOAD',
  ].join('\n');
  const scope = `${date}/${region}/${service}/aws4_request`;
  const stringToSign = ['AWS4-HMAC-SHA256', ctx.get('x-amz-date'), scope, sha256(canonicalRequest)].join(
    '\n',
  );
  const signingKey = [date, region, service, 'aws4_request'].reduce(
    (key, part) => hmac(key, part),
    `AWS4${secret}`,
  );
  if (hmac(signingKey, stringToSign).toString('hex') !== signature) {
    throw new S3Error(
      'SignatureDoesNotMatch',
      'The request signature we calculated does not match the signature you provided. Check your key and signing method.',
    );
  }
  return next();
}

const sha256 = (text) => createHash('sha256').update(text).digest('hex');
const hmac = (key, text) => createHmac('sha256', key).update(text).digest();
const encodeRfc3986 = (text) =>
  encodeURIComponent(text).replace(/[!'()*]/g, (ch) => `%${ch.charCodeAt(0).toString(16).toUpperCase()}`);

async function abortMultipartUpload(ctx, next) {
  const match = /^\/([^/]+)\/(.+)$/.exec(ctx.path);
  if (ctx.method !== 'DELETE' || !('uploadId' in ctx.query) || !match) return next();
  // What s3rver's router would have set; its signature check reads them.
  ctx.params = { bucket: decodeURIComponent(match[1]), key: decodeURIComponent(match[2]) };
  await authentication()(ctx, async () => {
    const uploadId = String(ctx.query.uploadId);
    const uploadDir = path.join(options.directory, ctx.params.bucket, '._S3rver_uploads', uploadId);
    if (!/^[0-9a-f]{32}$/.test(uploadId) || !fs.existsSync(uploadDir)) {
      throw new S3Error('NoSuchUpload', 'The specified upload does not exist.', { UploadId: uploadId });
    }
    fs.rmSync(uploadDir, { recursive: true, force: true });
    ctx.status = 204;
  });
}

// s3rver 3.7.1's DeleteObjects accepts any number of keys and fails the whole request
// when one key fails. S3 refuses more than 1,000 keys (MalformedXML) and reports a
// failed key in an <Error> entry while deleting the rest; the tests check both.
objectController.deleteMultipleObjects = async function deleteObjects(ctx) {
  const xml = await new Promise((resolve, reject) => {
    let payload = '';
    ctx.req.on('data', (data) => (payload += data.toString('utf8')));
    ctx.req.on('end', () => resolve(payload));
    ctx.req.on('error', reject);
  });
  const request =
    xmlParser.validate(xml) === true
      ? xmlParser.parse(xml, { tagValueProcessor: (value) => he.decode(value) }).Delete
      : undefined;
  const keys = request?.Object ? [].concat(request.Object).map((object) => String(object.Key)) : [];
  if (keys.length === 0 || keys.length > 1000) {
    throw new S3Error(
      'MalformedXML',
      'The XML you provided was not well-formed or did not validate against our published schema.',
    );
  }
  const deleted = [];
  const failed = [];
  for (const key of keys) {
    try {
      if (await ctx.store.existsObject(ctx.params.bucket, key))
        await ctx.store.deleteObject(ctx.params.bucket, key);
      deleted.push({ Key: key });
    } catch (error) {
      failed.push({ Key: key, Code: 'InternalError', Message: String(error.code ?? error.message) });
    }
  }
  ctx.body = {
    DeleteResult: {
      '@': { xmlns: 'http://s3.amazonaws.com/doc/2006-03-01/' },
      ...(request.Quiet === true || request.Quiet === 'true' ? {} : { Deleted: deleted }),
      Error: failed,
    },
  };
};

const server = new S3rver({
  address: '127.0.0.1',
  port: options.port,
  directory: options.directory,
  silent: true,
  configureBuckets: [{ name: options.bucket }],
});
// Just before s3rver's own router, after its logging, XML and vhost middleware.
server.middleware.splice(server.middleware.length - 1, 0, verifySignatureV4, abortMultipartUpload);

server.run().then(
  (address) => process.stdout.write(`listening on ${address.address}:${address.port}\n`),
  (error) => {
    process.stderr.write(`s3rver failed to start: ${error.stack}\n`);
    process.exit(1);
  },
);
