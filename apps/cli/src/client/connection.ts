import { readFile } from 'node:fs/promises';
import { request } from 'node:http';
import { resolve } from 'node:path';
import { type ErrorCode, MatricError } from '@matric-backup/core';
import type { CommandContext } from '../context.js';

/** How the client reaches `serve`: its socket (`unix:/run/matric-backup/api.sock`) or `http://host:port`. */
interface ServerAddress {
  socketPath?: string;
  host?: string;
  port?: number;
  /** For messages. */
  shown: string;
}

/** The daemon's answer: `data` of a success, or the API error turned into a MatricError. */
export interface ApiClient {
  call<T>(method: string, path: string, body?: unknown): Promise<T>;
}

/** One token, as `serve` itself accepts it from the environment. */
const TOKEN_ENV = 'MATRIC_BACKUP_API_TOKEN';

/**
 * API error codes as the CLI's: a busy runner or the run lock is LOCKED (exit 4), bad parameters
 * and a refused token are USAGE (exit 2), a shard that is not there SHARD_NOT_FOUND.
 */
const CODE_OF: Record<string, ErrorCode> = {
  BUSY: 'LOCKED',
  LOCKED: 'LOCKED',
  NOT_FOUND: 'SHARD_NOT_FOUND',
  MISSING_PARAMETER: 'USAGE',
  INVALID_PARAMETER: 'USAGE',
  INVALID_REQUEST: 'USAGE',
  UNAUTHORIZED: 'USAGE',
  FORBIDDEN: 'USAGE',
  VALIDATION_FAILED: 'VERIFY_FAILED',
};

function parseServer(server: string, cwd: string): ServerAddress {
  if (server.startsWith('unix:')) {
    const socketPath = resolve(cwd, server.slice('unix:'.length));
    return { socketPath, shown: `unix:${socketPath}` };
  }
  const url = /^http:\/\/(\[[^\]]+\]|[^:/]+):(\d+)\/?$/.exec(server);
  if (url) return { host: url[1]!.replace(/^\[|\]$/g, ''), port: Number(url[2]), shown: server };
  throw new MatricError(
    'USAGE',
    `--server ${JSON.stringify(server)}: expected unix:/path/to/api.sock or http://host:port`,
  );
}

/** `--token-file` (its first token; a `NAME TOKEN` line gives TOKEN), else $MATRIC_BACKUP_API_TOKEN. */
async function readClientToken(tokenFile: string | undefined, env: NodeJS.ProcessEnv): Promise<string> {
  if (tokenFile !== undefined) {
    let text: string;
    try {
      text = await readFile(tokenFile, 'utf8');
    } catch (error) {
      throw new MatricError('USAGE', `--token-file: cannot read ${tokenFile}: ${(error as Error).message}`);
    }
    const line = text
      .split('\n')
      .map((entry) => entry.trim())
      .find((entry) => entry !== '' && !entry.startsWith('#'));
    const token = line?.split(/\s+/).at(-1);
    if (!token) throw new MatricError('USAGE', `--token-file: ${tokenFile} holds no token`);
    return token;
  }
  const token = env[TOKEN_ENV]?.trim();
  if (!token) {
    throw new MatricError('USAGE', '--server needs the API token', {
      hint: `pass --token-file FILE (the service's backup.api.token_file, or a file with one of its tokens), or set ${TOKEN_ENV}`,
    });
  }
  return token;
}

function createApiClient(address: ServerAddress, token: string): ApiClient {
  return {
    call: (method, path, body) =>
      new Promise((resolvePromise, reject) => {
        const payload = body === undefined ? undefined : JSON.stringify(body);
        const req = request(
          {
            ...(address.socketPath
              ? { socketPath: address.socketPath }
              : { host: address.host, port: address.port }),
            method,
            path,
            headers: {
              authorization: `Bearer ${token}`,
              ...(payload !== undefined && { 'content-type': 'application/json' }),
            },
          },
          (res) => {
            let text = '';
            res.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
            res.on('end', () => {
              let answer: {
                success?: boolean;
                data?: unknown;
                error?: { code: string; message: string; details?: unknown };
              };
              try {
                answer = JSON.parse(text);
              } catch {
                reject(
                  new MatricError(
                    'UNREACHABLE',
                    `${address.shown} answered ${res.statusCode} without JSON: is it matric-backup serve?`,
                  ),
                );
                return;
              }
              if (answer.success) resolvePromise(answer.data as never);
              else reject(apiError(answer.error, address));
            });
          },
        );
        req.on('error', (error: NodeJS.ErrnoException) =>
          reject(
            new MatricError('UNREACHABLE', `cannot reach the service at ${address.shown}: ${error.message}`, {
              cause: error,
              hint: 'is `matric-backup serve` running with that socket (backup.api.socket)? check its log',
            }),
          ),
        );
        req.end(payload);
      }),
  };
}

function apiError(
  error: { code: string; message: string; details?: unknown } | undefined,
  address: ServerAddress,
): MatricError {
  const code = error?.code ?? 'UNKNOWN';
  const hint = (error?.details as { hint?: unknown } | undefined)?.hint;
  return new MatricError(
    CODE_OF[code] ?? 'UNKNOWN',
    `${address.shown}: ${code}: ${error?.message ?? 'failed'}`,
    {
      ...(typeof hint === 'string' && { hint }),
    },
  );
}

/** The client of `--server` and `--token-file`; loaded only by the commands that were given them. */
export async function connect(
  context: CommandContext,
  server: string,
  tokenFile: string | undefined,
): Promise<ApiClient> {
  const address = parseServer(server, context.cwd);
  const token = await readClientToken(
    tokenFile === undefined ? undefined : resolve(context.cwd, tokenFile),
    context.env,
  );
  return createApiClient(address, token);
}
