import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type LoadedConfig, MatricError } from '@matric-backup/core';

/** A bearer token the API accepts, and the name the audit log records for its calls. */
export interface ApiToken {
  name: string;
  value: string;
}

/** Where and to whom `serve` answers, from `backup.api` and the environment. */
export interface ApiSettings {
  socket: string;
  /** TCP, only when `backup.api.listen` is set. */
  listen?: { host: string; port: number };
  tokens: ApiToken[];
  restoreRoots: string[];
}

/** One token, for a daemon set up without a token file (systemd's LoadCredential, a container secret). */
const TOKEN_ENV = 'MATRIC_BACKUP_API_TOKEN';

/** A unix socket path longer than this cannot be bound (sun_path is 108 bytes with its NUL). */
const MAX_SOCKET_PATH = 107;

/**
 * Reads `backup.api`: the socket path, the TCP address, the tokens. A token is
 * required on the socket too: Node cannot read a unix socket peer's uid, so the
 * token is what identifies a caller (and the socket's mode 0660 only narrows who
 * may try). Problems are CONFIG_INVALID errors naming the key.
 */
export async function resolveApiSettings(config: LoadedConfig, env: NodeJS.ProcessEnv): Promise<ApiSettings> {
  const api = config.backup.api;
  const where = (key: string) => {
    const at = api && key in api ? config.positionOf?.(['backup', 'api', key]) : undefined;
    return `${config.file}${at ? `:${at.line}:${at.column}` : ''}: backup.api.${key}`;
  };
  const socket =
    api?.socket ?? join(env.RUNTIME_DIRECTORY?.split(':')[0] || config.backup.state_dir, 'api.sock');
  if (Buffer.byteLength(socket) > MAX_SOCKET_PATH) {
    throw new MatricError(
      'CONFIG_INVALID',
      `${where('socket')}: ${socket} is longer than the ${MAX_SOCKET_PATH} bytes a unix socket path may have`,
      { hint: 'set backup.api.socket to a shorter path, e.g. /run/matric-backup/api.sock' },
    );
  }
  const tokens: ApiToken[] = [];
  if (api?.token_file) tokens.push(...(await readTokenFile(api.token_file, where('token_file'))));
  const fromEnv = env[TOKEN_ENV]?.trim();
  if (fromEnv) tokens.push({ name: 'env', value: fromEnv });
  if (tokens.length === 0) {
    throw new MatricError('CONFIG_INVALID', `${where('token_file')}: serve needs a token for its API`, {
      hint: `set backup.api.token_file to a file holding a long random token (e.g. \`openssl rand -hex 32\`), or set ${TOKEN_ENV}`,
    });
  }
  return {
    socket,
    ...(api?.listen !== undefined && { listen: parseListen(api.listen) }),
    tokens,
    restoreRoots: api?.restore_roots ?? [],
  };
}

async function readTokenFile(file: string, where: string): Promise<ApiToken[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new MatricError('CONFIG_INVALID', `${where}: cannot read ${file}: ${(error as Error).message}`, {
      cause: error,
      hint: 'the file must exist and be readable by the user serve runs as',
    });
  }
  const tokens: ApiToken[] = [];
  text.split('\n').forEach((raw, index) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const parts = line.split(/\s+/);
    const [name, value] = parts.length === 1 ? ['token', parts[0]!] : [parts[0]!, parts[1]!];
    if (parts.length > 2 || value.length < 16) {
      throw new MatricError(
        'CONFIG_INVALID',
        `${where}: ${file} line ${index + 1}: expected \`TOKEN\` or \`NAME TOKEN\` with a token of at least 16 characters`,
      );
    }
    tokens.push({ name, value });
  });
  if (tokens.length === 0) throw new MatricError('CONFIG_INVALID', `${where}: ${file} holds no token`);
  return tokens;
}

function parseListen(listen: string): { host: string; port: number } {
  const at = listen.lastIndexOf(':');
  return { host: listen.slice(0, at).replace(/^\[|\]$/g, ''), port: Number(listen.slice(at + 1)) };
}
