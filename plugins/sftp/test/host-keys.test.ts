import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isDestinationError } from '@matric-backup/core';
import { afterAll, describe, expect, it } from 'vitest';
import {
  createHostKeyVerifier,
  fingerprintOf,
  hostMatches,
  parseKnownHosts,
} from '../src/shared/host-keys.js';

// Real keys and real known_hosts lines, produced by OpenSSH's own tools.
const dir = mkdtempSync(join(tmpdir(), 'mb-hostkeys-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function keygen(name: string, type = 'ed25519'): { line: string; blob: Buffer; fingerprint: string } {
  const path = join(dir, name);
  execFileSync('ssh-keygen', ['-q', '-t', type, '-N', '', '-f', path]);
  const line = readFileSync(`${path}.pub`, 'utf8').trim().split(' ').slice(0, 2).join(' ');
  const fingerprint = execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', `${path}.pub`], {
    encoding: 'utf8',
  }).split(' ')[1]!;
  return { line, blob: Buffer.from(line.split(' ')[1]!, 'base64'), fingerprint };
}

const server = keygen('server');
const other = keygen('other');
const rsa = keygen('rsa', 'rsa');

async function refusal(
  promise: () => unknown,
): Promise<{ code: string; message: string; retryable: boolean }> {
  try {
    await promise();
  } catch (error) {
    expect(isDestinationError(error)).toBe(true);
    return error as never;
  }
  throw new Error('expected a refusal');
}

describe('known_hosts and fingerprints', () => {
  it('computes the same SHA256 fingerprint as ssh-keygen -l', () => {
    expect(fingerprintOf(server.blob)).toBe(server.fingerprint);
    expect(fingerprintOf(rsa.blob)).toBe(rsa.fingerprint);
  });

  it('matches plain, [host]:port, wildcard and negated patterns like OpenSSH', () => {
    expect(hostMatches('example.org,10.0.0.1', 'example.org')).toBe(true);
    expect(hostMatches('[example.org]:2222', '[example.org]:2222')).toBe(true);
    expect(hostMatches('example.org', '[example.org]:2222')).toBe(false);
    expect(hostMatches('*.example.org', 'NAS.Example.org')).toBe(true);
    expect(hostMatches('*.example.org,!evil.example.org', 'evil.example.org')).toBe(false);
    expect(hostMatches('10.0.0.?', '10.0.0.7')).toBe(true);
  });

  it('matches hashed entries written by ssh-keygen -H, for port 22 and [host]:port', () => {
    const file = join(dir, 'hashed_known_hosts');
    writeFileSync(file, `nas.local ${server.line}\n[127.0.0.1]:2222 ${other.line}\n`);
    execFileSync('ssh-keygen', ['-H', '-f', file], { stdio: 'ignore' });
    const lines = parseKnownHosts(readFileSync(file, 'utf8'));
    expect(lines.every((line) => line.hosts.startsWith('|1|'))).toBe(true);
    expect(lines.filter((line) => hostMatches(line.hosts, 'nas.local')).map((line) => line.blob)).toEqual([
      server.blob,
    ]);
    expect(
      lines.filter((line) => hostMatches(line.hosts, '[127.0.0.1]:2222')).map((line) => line.blob),
    ).toEqual([other.blob]);
    expect(lines.some((line) => hostMatches(line.hosts, '[nas.local]:2222'))).toBe(false);
  });

  it('accepts the known key, refuses a changed one and an unknown host with the presented fingerprint', async () => {
    const file = join(dir, 'known_hosts');
    writeFileSync(file, `# comment\n\n[nas.local]:2222 ${server.line}\n@revoked * ${rsa.line}\n`);
    const verifier = await createHostKeyVerifier({ kind: 'known_hosts', file }, 'nas.local', 2222);
    expect(verifier.verify(server.blob).fingerprint).toBe(server.fingerprint);
    expect(verifier.knownKeyTypes).toEqual(['ssh-ed25519']);

    const changed = await refusal(() => verifier.verify(other.blob));
    expect(changed).toMatchObject({ code: 'CONFIG', retryable: false });
    expect(changed.message).toContain('HOST KEY CHANGED');
    expect(changed.message).toContain(other.fingerprint);
    expect(changed.message).toContain(`host_key_fingerprint: "${other.fingerprint}"`);

    const revoked = await refusal(() => verifier.verify(rsa.blob));
    expect(revoked.message).toContain('@revoked');

    const unknown = await refusal(async () =>
      (await createHostKeyVerifier({ kind: 'known_hosts', file }, 'other.local', 22)).verify(server.blob),
    );
    expect(unknown).toMatchObject({ code: 'CONFIG', retryable: false });
    expect(unknown.message).toContain(server.fingerprint);
    expect(unknown.message).toContain(`ssh-keyscan -p 22 other.local >> ${file}`);
  });

  it('treats a missing known_hosts file as "nothing known"', async () => {
    const verifier = await createHostKeyVerifier({ kind: 'known_hosts', file: join(dir, 'absent') }, 'h', 22);
    expect((await refusal(() => verifier.verify(server.blob))).message).toContain('is unknown');
  });

  it('checks a pinned fingerprint, with or without base64 padding', async () => {
    const pinned = await createHostKeyVerifier(
      { kind: 'fingerprint', fingerprint: `${server.fingerprint}=` },
      'h',
      22,
    );
    expect(pinned.verify(server.blob).type).toBe('ssh-ed25519');
    const mismatch = await refusal(() => pinned.verify(other.blob));
    expect(mismatch.message).toContain(`presented ssh-ed25519 ${other.fingerprint}`);
  });
});
