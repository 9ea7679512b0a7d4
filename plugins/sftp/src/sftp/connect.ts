import { readFile } from 'node:fs/promises';
import { DestinationError } from '@matric-backup/plugin-api';
import { Client, type ConnectConfig, type SFTPWrapper } from 'ssh2';
import type { HostKeyVerifier, PresentedKey } from '../shared/host-keys.js';
import { connectError, privateKeyError } from './errors.js';
import { hostKeyAlgorithms } from './host-keys.js';

export interface SshEndpoint {
  host: string;
  port: number;
  username: string;
}

interface SshCredentials {
  /** Path of the private key file. */
  sshKey?: string;
  passphrase?: string;
  password?: string;
  /** Agent socket path, or true for $SSH_AUTH_SOCK. */
  agent?: string | boolean;
}

export interface SshConnectOptions {
  endpoint: SshEndpoint;
  credentials: SshCredentials;
  verifier: HostKeyVerifier;
  timeoutMs: number;
}

export interface SshConnection {
  client: Client;
  hostKey: PresentedKey;
  /** Aborted once the connection closed or failed; requests still pending then failed because of it. */
  lost: AbortSignal;
}

export function describeEndpoint({ host, port, username }: SshEndpoint): string {
  return `${username}@${host}:${port}`;
}

/**
 * Opens an authenticated SSH connection whose host key passed `verifier`. A refused
 * host key rejects with the verifier's error (it names the presented fingerprint),
 * not ssh2's generic "verification failed".
 */
export async function connectSsh(options: SshConnectOptions): Promise<SshConnection> {
  const { endpoint, verifier } = options;
  const where = describeEndpoint(endpoint);
  const config: ConnectConfig = {
    host: endpoint.host,
    port: endpoint.port,
    username: endpoint.username,
    ...(await authConfig(options.credentials)),
    readyTimeout: options.timeoutMs,
    // Detects a server that vanished without closing TCP (cable pulled, VM paused).
    keepaliveInterval: 15_000,
    keepaliveCountMax: 4,
    algorithms: hostKeyAlgorithms(verifier),
  };

  return new Promise<SshConnection>((resolve, reject) => {
    const client = new Client();
    let hostKey: PresentedKey | undefined;
    let refused: unknown;
    const lost = new AbortController();
    let ready = false;
    config.hostVerifier = (blob: Buffer) => {
      try {
        hostKey = verifier.verify(blob);
        return true;
      } catch (error) {
        refused = error;
        return false;
      }
    };
    const fail = (error: unknown) => {
      lost.abort();
      if (!ready) reject(refused ?? connectError(error, where));
    };
    // A later 'error' (e.g. the server died mid-transfer) must not crash the process;
    // the pending SFTP requests report it, and `lost` tells them why.
    client.on('error', fail);
    client.on('close', () => fail(new Error('connection closed during the handshake')));
    client.once('ready', () => {
      ready = true;
      resolve({ client, hostKey: hostKey!, lost: lost.signal });
    });
    try {
      client.connect(config);
    } catch (error) {
      ready = true;
      client.end();
      const aboutKey = options.credentials.sshKey && /privateKey/.test((error as Error)?.message ?? '');
      reject(aboutKey ? privateKeyError(error, options.credentials.sshKey!) : connectError(error, where));
    }
  });
}

export function openSftp(connection: SshConnection): Promise<SFTPWrapper> {
  return new Promise((resolve, reject) => {
    connection.client.sftp((error, sftp) => {
      if (error) {
        reject(
          new DestinationError('CONFIG', `the server refused the SFTP subsystem: ${error.message}`, {
            cause: error,
            retryable: false,
            hint: 'The server needs `Subsystem sftp` in its sshd_config.',
          }),
        );
      } else resolve(sftp);
    });
  });
}

async function authConfig(credentials: SshCredentials): Promise<Partial<ConnectConfig>> {
  const config: Partial<ConnectConfig> = {};
  if (credentials.sshKey) {
    try {
      config.privateKey = await readFile(credentials.sshKey);
    } catch (error) {
      throw new DestinationError(
        'CONFIG',
        `cannot read ssh_key ${credentials.sshKey}: ${(error as Error).message}`,
        {
          cause: error,
          retryable: false,
        },
      );
    }
    if (credentials.passphrase !== undefined) config.passphrase = credentials.passphrase;
  }
  if (credentials.password !== undefined) config.password = credentials.password;
  if (credentials.agent) {
    const socket = credentials.agent === true ? process.env.SSH_AUTH_SOCK : credentials.agent;
    if (!socket) {
      throw new DestinationError(
        'CONFIG',
        'agent: true, but SSH_AUTH_SOCK is not set (is ssh-agent running?)',
        {
          retryable: false,
        },
      );
    }
    config.agent = socket;
  }
  return config;
}

/**
 * Runs the SSH handshake only as far as the host key: resolves with the key once
 * `verifier` accepted it (then hangs up before authenticating), or rejects with the
 * verifier's error. rsync over ssh uses it to check the key with the same rules
 * as sftp before handing that exact key to OpenSSH.
 */
export function probeHostKey(
  endpoint: SshEndpoint,
  verifier: HostKeyVerifier,
  timeoutMs: number,
): Promise<PresentedKey> {
  return new Promise<PresentedKey>((resolve, reject) => {
    const client = new Client();
    let accepted: PresentedKey | undefined;
    let refused: unknown;
    const finish = (error?: unknown) => {
      client.end();
      if (accepted) resolve(accepted);
      else
        reject(
          refused ??
            connectError(
              error ?? new Error('connection closed during the handshake'),
              describeEndpoint(endpoint),
            ),
        );
    };
    client.on('error', finish);
    client.on('close', () => finish());
    client.once('ready', () => finish());
    client.connect({
      host: endpoint.host,
      port: endpoint.port,
      username: endpoint.username,
      readyTimeout: timeoutMs,
      algorithms: hostKeyAlgorithms(verifier),
      // Answering "no" even to an accepted key ends the handshake before any authentication.
      hostVerifier: (blob: Buffer) => {
        try {
          accepted = verifier.verify(blob);
        } catch (error) {
          refused = error;
        }
        return false;
      },
    });
  });
}
