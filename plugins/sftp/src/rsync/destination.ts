import { mkdtemp, open, rm, symlink } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type {
  CheckResult,
  Destination,
  ObjectInfo,
  OperationOptions,
  PluginContext,
  PutOptions,
  TemporaryObject,
} from '@matric-backup/plugin-api';
import { DestinationError, makeFolders, parseTemporaryKey, temporaryKey } from '@matric-backup/plugin-api';
import { takeWholeFile } from '../shared/file-source.js';
import { hostKeyPolicyOf } from '../shared/ssh-config.js';
import { baseArgs, exactNamePattern } from './args.js';
import { isMissingPath, rsyncError } from './errors.js';
import { type ListedEntry, parseListLine } from './listing.js';
import type { RsyncConfig } from './schema.js';
import { type RsyncResult, startRsync } from './spawn.js';
import { buildSshCommand, renderSshCommand } from './ssh-command.js';
import { type SshMaster, startSshMaster } from './ssh-master.js';
import { parseTarget, type RemoteLayout, type RsyncTarget, remoteLayout, remoteSpec } from './target.js';
import { parseRsyncTemporary } from './temp-names.js';

interface Connection {
  args: string[];
  env: NodeJS.ProcessEnv;
  trust: string;
  master?: SshMaster;
}

/**
 * Objects as files under the target folder, moved by the system rsync. Every put
 * is atomic by rsync's own design: the receiver writes `.<name>.XXXXXX` beside the
 * final name and renames it only when the file is complete and checked, and it
 * removes that temporary when the transfer fails. (--partial and --inplace, which
 * would break this, are never used.) `list` hides such temporaries, and
 * `listTemporary` reports the ones a killed transfer left behind.
 */
export class RsyncDestination implements Destination {
  private readonly target: RsyncTarget;
  private readonly layout: RemoteLayout;
  private connection: Promise<Connection> | undefined;
  private scratch: Promise<string> | undefined;

  constructor(
    private readonly config: RsyncConfig,
    private readonly context: PluginContext,
  ) {
    const target = parseTarget(config.target);
    if ('error' in target)
      throw new DestinationError('CONFIG', `target: ${target.error}`, { retryable: false });
    this.target = target;
    this.layout = remoteLayout(target, config.port);
  }

  /** A private scratch folder for staging, downloads and the known_hosts file; removed by close(). */
  private scratchDir(): Promise<string> {
    this.scratch ??= mkdtemp(join(this.context.tmpDir, 'rsync-'));
    return this.scratch;
  }

  private connect(): Promise<Connection> {
    if (this.connection) return this.connection;
    const current = this.prepare();
    this.connection = current;
    // A failed preparation (server down during the host key check) is retried by the next call.
    current.catch(() => {
      if (this.connection === current) this.connection = undefined;
    });
    return current;
  }

  /**
   * After a lost connection the next call starts over: the host key is checked
   * again and a new ssh master replaces the old one (which may have died with it).
   */
  private forget(stale: Promise<Connection>): void {
    if (this.connection !== stale) return;
    this.connection = undefined;
    stale.then((connection) => connection.master?.stop()).catch(() => undefined);
  }

  private async prepare(): Promise<Connection> {
    const env: NodeJS.ProcessEnv = { ...process.env };
    const { target, config } = this;
    if (target.kind === 'daemon') {
      // The password travels in the environment, never on the command line.
      if (config.password !== undefined) env.RSYNC_PASSWORD = config.password;
      return {
        // Without TCP_NODELAY each call waits out delayed ACKs (~40 ms, several times).
        args: [`--contimeout=${Math.ceil(config.connect_timeout)}`, '--sockopts=TCP_NODELAY'],
        env,
        trust: 'rsync daemon protocol (unencrypted, no host key)',
      };
    }
    const ssh = await buildSshCommand({
      host: target.host,
      port: config.port ?? 22,
      user: target.user,
      sshKey: config.ssh_key,
      policy: hostKeyPolicyOf(config),
      connectTimeoutSeconds: config.connect_timeout,
      tmpDir: await this.scratchDir(),
    });
    const login = `${target.user ? `${target.user}@` : ''}${target.host}`;
    const master = await startSshMaster(
      ssh.words,
      login,
      this.describe(''),
      (config.connect_timeout + 10) * 1000,
    );
    return {
      args: ['-e', renderSshCommand([...ssh.words, ...master.options])],
      env,
      trust: ssh.trust,
      master,
    };
  }

  private describe(relative: string): string {
    return remoteSpec(this.layout, relative);
  }

  /** Runs rsync to completion; stdout lines go to `onLine`. */
  private async run(
    extra: string[],
    operation: string,
    where: string,
    options: { signal?: AbortSignal; onLine?: (line: string) => void; allowMissing?: boolean } = {},
  ): Promise<RsyncResult> {
    const pending = this.connect();
    const connection = await pending;
    const child = startRsync(
      this.config.rsync_binary,
      [...baseArgs(this.config.io_timeout), ...connection.args, ...extra],
      {
        env: connection.env,
        signal: options.signal,
      },
    );
    for await (const line of child.lines) options.onLine?.(line);
    const result = await child.done;
    if (result.code === 0 || (options.allowMissing && isMissingPath(result))) return result;
    const error = rsyncError(result, operation, where);
    if (error.code === 'UNREACHABLE') this.forget(pending);
    throw error;
  }

  async put(key: string, body: Readable, options: PutOptions): Promise<void> {
    options.signal?.throwIfAborted();
    // rsync's receiver always renames over the name, so `ifAbsent` is a check before the transfer.
    if (options.ifAbsent && (await this.stat(key))) {
      throw new DestinationError(
        'ALREADY_EXISTS',
        `put ${this.describe(key)}: it exists; it was left as it is`,
        {
          retryable: false,
        },
      );
    }
    const scratch = await this.scratchDir();
    const work = await mkdtemp(join(scratch, 'put-'));
    try {
      const source = await this.localFileOf(body, join(work, 'data'), options);
      // --relative recreates the path after `/./` below the base, creating missing
      // folders on the way (works with old rsync servers, unlike --mkpath).
      const relative = posix.join(this.layout.root, key);
      const staged = join(work, 'stage', relative);
      await makeFolders(posix.dirname(staged));
      await symlink(source, staged);
      const progress = options.onProgress;
      await this.run(
        [
          '--relative',
          '--copy-links',
          '--whole-file',
          '--ignore-times',
          '--chmod=F600',
          ...(progress ? ['--info=progress2'] : []),
          '--',
          `${join(work, 'stage')}/./${relative}`,
          this.layout.base,
        ],
        'put',
        this.describe(key),
        {
          signal: options.signal,
          onLine:
            progress &&
            ((line) => {
              const bytes = /^\s*(\d+)\s+\d+%/.exec(line);
              if (bytes) progress(Number(bytes[1]));
            }),
        },
      );
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  }

  /**
   * rsync sends files, not streams: core's spool file is used as is (see
   * takeWholeFile); any other body is copied to a private temporary file first.
   */
  private async localFileOf(body: Readable, spool: string, options: PutOptions): Promise<string> {
    const path = takeWholeFile(body, options);
    if (path) return path;
    await pipeline(body, await openForWriting(spool), { signal: options.signal });
    return spool;
  }

  async get(key: string, options?: OperationOptions): Promise<Readable> {
    const work = await mkdtemp(join(await this.scratchDir(), 'get-'));
    const local = join(work, 'data');
    try {
      await this.run(['--', remoteSpec(this.layout, key), local], 'get', this.describe(key), {
        signal: options?.signal,
      });
      // Unlinked once open: the bytes live as long as the stream, and nothing is left behind.
      const handle = await open(local, 'r').catch((error: NodeJS.ErrnoException) => {
        // rsync skips a folder without -r and exits 0.
        if (error.code === 'ENOENT')
          throw new DestinationError('NOT_FOUND', `get ${this.describe(key)}: not a file`);
        throw error;
      });
      return handle.createReadStream({ highWaterMark: 1024 * 1024 });
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  }

  async *list(prefix = '', options?: OperationOptions): AsyncIterable<ObjectInfo> {
    const slash = prefix.lastIndexOf('/');
    const folder = slash >= 0 ? prefix.slice(0, slash) : '';
    for (const entry of await this.listFolder(folder, options?.signal)) {
      const key = folder ? `${folder}/${entry.name}` : entry.name;
      if (entry.type === 'file' && key.startsWith(prefix) && !temporaryOf(posix.basename(key)))
        yield { key, size: entry.size, modified: entry.modified };
    }
  }

  async *listTemporary(): AsyncIterable<TemporaryObject> {
    for (const entry of await this.listFolder('')) {
      const folder = posix.dirname(entry.name);
      const temporary = entry.type === 'file' ? temporaryOf(posix.basename(entry.name)) : undefined;
      if (temporary) {
        const key = folder === '.' ? temporary.key : `${folder}/${temporary.key}`;
        yield { name: entry.name, key, size: entry.size, modified: entry.modified };
      }
    }
  }

  /** Entries below `folder` (relative names), recursively; empty when it does not exist. */
  // An abort kills the rsync process (see run()).
  private async listFolder(folder: string, signal?: AbortSignal): Promise<ListedEntry[]> {
    const entries: ListedEntry[] = [];
    await this.run(
      ['--list-only', '--recursive', '--', `${remoteSpec(this.layout, folder)}/`],
      'list',
      this.describe(folder),
      {
        signal,
        allowMissing: true,
        onLine: (line) => {
          const entry = parseListLine(line);
          if (entry && entry.name !== '.') entries.push(entry);
        },
      },
    );
    return entries;
  }

  async stat(key: string, options?: OperationOptions): Promise<ObjectInfo | undefined> {
    let found: ListedEntry | undefined;
    await this.run(['--list-only', '--', remoteSpec(this.layout, key)], 'stat', this.describe(key), {
      signal: options?.signal,
      allowMissing: true,
      onLine: (line) => {
        found ??= parseListLine(line);
      },
    });
    return found?.type === 'file' ? { key, size: found.size, modified: found.modified } : undefined;
  }

  async delete(key: string): Promise<void> {
    if (!(await this.stat(key))) return;
    await this.deleteNames(posix.dirname(key) === '.' ? '' : posix.dirname(key), [
      exactNamePattern(posix.basename(key)),
    ]);
  }

  /**
   * rsync has no "remove": sync an empty folder onto the remote one with --delete,
   * letting the filter include only the given names and exclude (protect) the rest.
   */
  private async deleteNames(folder: string, patterns: string[]): Promise<void> {
    const empty = await mkdtemp(join(await this.scratchDir(), 'empty-'));
    try {
      await this.run(
        [
          '--dirs',
          '--delete',
          ...patterns.map((pattern) => `--include=${pattern}`),
          '--exclude=*',
          '--',
          `${empty}/`,
          `${remoteSpec(this.layout, folder)}/`,
        ],
        'delete',
        this.describe(folder),
      );
    } finally {
      await rm(empty, { recursive: true, force: true });
    }
  }

  async check(): Promise<CheckResult> {
    const connection = await this.connect();
    const details = [`${this.describe('')}: ${connection.trust}`];
    const probe = temporaryKey('matric-backup-check');
    const content = Buffer.from('matric-backup check\n');
    await this.put(probe, Readable.from([content]), { size: content.length, sha256: '' });
    await this.deleteNames('', [exactNamePattern(probe)]);
    details.push('writable (probe file written and removed)', 'free space: not reported over rsync');
    return { details };
  }

  async close(): Promise<void> {
    const { scratch, connection } = this;
    this.scratch = undefined;
    this.connection = undefined;
    await (await connection?.catch(() => undefined))?.master?.stop();
    if (scratch) await rm(await scratch.catch(() => ''), { recursive: true, force: true });
  }
}

/** A temporary of ours (the check probe) or of rsync's receiver. */
function temporaryOf(name: string): { key: string } | undefined {
  return parseTemporaryKey(name) ?? parseRsyncTemporary(name);
}

async function openForWriting(path: string): Promise<Writable> {
  const handle = await open(path, 'wx', 0o600);
  return handle.createWriteStream();
}
