import { DestinationError } from '@matric-backup/plugin-api';

/**
 * Keys are relative POSIX paths. Checked once here, before any plugin sees them,
 * so no plugin has to defend against traversal on its own.
 */
export function assertValidKey(key: string, { allowEmpty = false } = {}): void {
  const reason = invalidKeyReason(key, allowEmpty);
  if (reason) {
    throw new DestinationError('INVALID_KEY', `invalid key ${JSON.stringify(key)}: ${reason}`, {
      retryable: false,
    });
  }
}

function invalidKeyReason(key: string, allowEmpty: boolean): string | undefined {
  if (typeof key !== 'string') return 'not a string';
  if (key === '') return allowEmpty ? undefined : 'empty';
  if (key.includes('\0')) return 'contains NUL';
  if (key.includes('\\')) return 'contains a backslash';
  if (key.startsWith('/')) return 'absolute (leading /)';
  if (key.split('/').some((part) => part === '..')) return 'contains ..';
  if (key.split('/').some((part) => part === '.')) return 'contains .';
  if (!allowEmpty && key.endsWith('/')) return 'ends with /';
  if (key.includes('//')) return 'contains an empty path segment';
  return undefined;
}
