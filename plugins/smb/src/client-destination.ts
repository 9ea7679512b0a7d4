import type { Readable } from 'node:stream';
import type { CheckResult, Destination, ObjectInfo, PluginContext, PutOptions } from '@matric-backup/core';
import type { Credentials } from './auth-file.js';
import { isExposed } from './auth-file.js';
import { parseShare, pathSegments, type SmbConfig } from './config.js';
import { type ErrorContext, isNotFound } from './errors.js';
import { getViaSmbclient } from './get.js';
import {
  assertExpressible,
  isTemporaryName,
  quote,
  remotePath,
  temporaryName,
  unexpressibleReason,
} from './names.js';
import { assertSucceeded, folderExists } from './outcome.js';
import { type ListedEntry, parseFreeBytes, parseListing } from './output.js';
import { putViaSmbclient } from './put.js';
import { Smbclient } from './smbclient.js';

const notFound = ({ status }: { status: string }) => isNotFound(status);

/**
 * The share reached with Samba's smbclient: one short smbclient process per
 * operation (about 0.1 s to connect and log on over loopback), nothing held
 * open between operations.
 */
export function createSmbclientDestination(config: SmbConfig, context: PluginContext): Destination {
  const { host, name: share } = parseShare(config.share!);
  const credentials: Credentials =
    config.credentials_file !== undefined
      ? { kind: 'file', path: config.credentials_file }
      : {
          kind: 'inline',
          username: config.username!,
          password: config.password ?? '',
          domain: config.domain,
        };
  const client = new Smbclient({
    binary: config.smbclient_path,
    host,
    port: config.port,
    share,
    credentials,
    domain: credentials.kind === 'file' ? config.domain : undefined,
    timeoutSeconds: config.timeout,
    tmpDir: context.tmpDir,
  });
  const base = pathSegments(config.path);
  const errorContext = (operation: string): ErrorContext => ({
    share: client.unc,
    username: config.username,
    operation,
  });
  const keyPath = (key: string) => [...base, ...key.split('/')];
  let warnedExposed = false;

  return {
    async put(key: string, body: Readable, options: PutOptions) {
      assertExpressible(key);
      const segments = keyPath(key);
      await putViaSmbclient(
        client,
        segments.slice(0, -1),
        segments.at(-1)!,
        body,
        options,
        errorContext(`put ${JSON.stringify(key)}`),
      );
    },

    async get(key: string) {
      assertExpressible(key);
      return getViaSmbclient(client, remotePath(keyPath(key)), errorContext(`get ${JSON.stringify(key)}`));
    },

    async *list(prefix = '') {
      // The deepest folder the prefix names is listed recursively; the rest of the prefix filters names.
      const folder = prefix.includes('/') ? prefix.slice(0, prefix.lastIndexOf('/')) : '';
      const folderSegments = folder === '' ? [] : folder.split('/');
      // Nothing can be stored under a name the share cannot hold.
      if (folderSegments.some((segment) => unexpressibleReason(segment))) return;
      const listed = [...base, ...folderSegments];
      const result = await client.run(['recurse', `ls ${quote(listMask(listed))}`]);
      assertSucceeded(result, errorContext(`list ${JSON.stringify(prefix)}`), notFound);
      const baseFolder = remotePath(base);
      for (const entry of parseListing(result.stdout)) {
        const key = keyOf(entry, remotePath(listed), baseFolder);
        if (key?.startsWith(prefix)) yield { key, size: entry.size, modified: entry.modified };
      }
    },

    async stat(key: string): Promise<ObjectInfo | undefined> {
      assertExpressible(key);
      const segments = keyPath(key);
      const result = await client.run([`ls ${quote(remotePath(segments))}`]);
      assertSucceeded(result, errorContext(`stat ${JSON.stringify(key)}`), notFound);
      const entry = parseListing(result.stdout).find(
        (found) => found.name === segments.at(-1) && !found.isFolder,
      );
      return entry && { key, size: entry.size, modified: entry.modified };
    },

    async delete(key: string) {
      assertExpressible(key);
      const result = await client.run([`del ${quote(remotePath(keyPath(key)))}`]);
      assertSucceeded(result, errorContext(`delete ${JSON.stringify(key)}`), notFound);
    },

    async check(): Promise<CheckResult> {
      if (credentials.kind === 'file' && !warnedExposed && (await isExposed(credentials.path))) {
        warnedExposed = true;
        context.log.warn(`credentials_file ${credentials.path} is readable by other users; chmod 600 it`);
      }
      const probe = remotePath([...base, temporaryName('matric-check')]);
      const result = await client.run(
        [
          ...base.map((_, depth) => `mkdir ${quote(remotePath(base.slice(0, depth + 1)))}`),
          // smbclient only puts regular files or /dev/stdin (not /dev/null).
          `put /dev/stdin ${quote(probe)}`,
          `du ${quote(probe)}`,
          `del ${quote(probe)}`,
        ],
        'matric-backup write probe\n',
      );
      assertSucceeded(result, errorContext('check'), folderExists);
      const freeBytes = parseFreeBytes(result.stdout);
      const where = `${client.unc}${base.length ? `/${base.join('/')}` : ''}`;
      return {
        details: [
          `logged on to ${client.unc} as ${credentials.kind === 'file' ? `the user in ${credentials.path}` : JSON.stringify(config.username)}`,
          `${where} is writable (probe file written and deleted)`,
          ...(freeBytes === undefined ? [] : [`${(freeBytes / 1024 ** 3).toFixed(1)} GiB free`]),
        ],
        freeBytes,
      };
    },

    async close() {
      // Nothing held open: every operation is its own smbclient session.
    },
  };
}

/** `\a\b\*`: every entry of a folder (`\*` for the share's root). */
function listMask(segments: readonly string[]): string {
  return segments.length === 0 ? '\\*' : `${remotePath(segments)}\\*`;
}

/** The key of a listed file, or undefined for folders and temporary files. */
function keyOf(entry: ListedEntry, listedFolder: string, baseFolder: string): string | undefined {
  if (entry.isFolder || isTemporaryName(entry.name)) return undefined;
  const folder = entry.folder ?? listedFolder;
  const relative = baseFolder === '\\' ? folder.slice(1) : folder.slice(baseFolder.length + 1);
  const parts = relative === '' ? [entry.name] : [...relative.split('\\'), entry.name];
  return parts.join('/');
}
