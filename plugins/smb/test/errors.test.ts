import { describe, expect, it } from 'vitest';
import { errorFromStatus } from '../src/errors.js';
import { statusLines } from '../src/output.js';

const context = { share: '//fileserver/backups', username: 'backup', operation: 'put "a.tar.zst"' };
const errorFor = (output: string) => errorFromStatus(statusLines(output)[0]!, context);

describe('errorFromStatus', () => {
  it.each([
    ['session setup failed: NT_STATUS_LOGON_FAILURE', 'AUTH_FAILED', false],
    ['session setup failed: NT_STATUS_ACCOUNT_LOCKED_OUT', 'AUTH_FAILED', false],
    ['tree connect failed: NT_STATUS_BAD_NETWORK_NAME', 'CONFIG', false],
    ['do_connect: Connection to 127.0.0.1 failed (Error NT_STATUS_CONNECTION_REFUSED)', 'UNREACHABLE', true],
    ['do_connect: Connection to nas.invalid failed (Error NT_STATUS_UNSUCCESSFUL)', 'UNREACHABLE', true],
    ['protocol negotiation failed: NT_STATUS_IO_TIMEOUT', 'UNREACHABLE', true],
    ['protocol negotiation failed: NT_STATUS_INVALID_NETWORK_RESPONSE', 'UNREACHABLE', true],
    ['protocol negotiation failed: NT_STATUS_NOT_SUPPORTED', 'CONFIG', false],
    ['NT_STATUS_HOST_UNREACHABLE listing \\x', 'UNREACHABLE', true],
    // Captured from a put onto a share whose folder was a 1 MiB tmpfs (Samba 4.17, smbclient 4.17).
    ['cli_push returned NT_STATUS_DISK_FULL', 'NO_SPACE', false],
    ['NT_STATUS_QUOTA_EXCEEDED opening remote file \\a', 'NO_SPACE', false],
    ['NT_STATUS_OBJECT_NAME_NOT_FOUND opening remote file \\a', 'NOT_FOUND', false],
    ['NT_STATUS_OBJECT_PATH_NOT_FOUND opening remote file \\a\\b', 'NOT_FOUND', false],
    ['NT_STATUS_FILE_IS_A_DIRECTORY opening remote file \\a', 'NOT_FOUND', false],
    ['NT_STATUS_ACCESS_DENIED opening remote file \\a', 'PERMISSION_DENIED', false],
    ['NT_STATUS_OBJECT_NAME_INVALID opening remote file \\a', 'INVALID_KEY', false],
    ['NT_STATUS_SHARING_VIOLATION opening remote file \\a', 'UNKNOWN', true],
  ])('%s -> %s', (output, code, retryable) => {
    const error = errorFor(output);
    expect(error.code).toBe(code);
    expect(error.retryable).toBe(retryable);
    expect(error.message).toContain('//fileserver/backups');
  });

  it('names the user on a logon failure and the share when it does not exist', () => {
    expect(errorFor('session setup failed: NT_STATUS_LOGON_FAILURE').message).toContain('"backup"');
    const missing = errorFor('tree connect failed: NT_STATUS_BAD_NETWORK_NAME');
    expect(missing.message).toContain('no share named "backups"');
    expect(missing.hint).toContain('smbclient -L //fileserver');
  });
});
