import { isMatricError, MatricError } from '@matric-backup/plugin-api';

const REASONS: Record<string, string> = {
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ENOENT: 'no such file or folder',
  ENOTDIR: 'not a folder',
  ELOOP: 'a symbolic link where a folder or file was expected',
  EIO: 'input/output error',
};

/** SOURCE_FAILED naming the source and the exact path, with the system's reason. */
export function sourceReadError(source: string, path: string, error: unknown): MatricError {
  if (isMatricError(error)) return error;
  const code = (error as NodeJS.ErrnoException)?.code;
  const reason = (code && REASONS[code]) ?? (error instanceof Error ? error.message : String(error));
  return new MatricError(
    'SOURCE_FAILED',
    `source ${source}: cannot read ${path}: ${reason}${code ? ` (${code})` : ''}`,
    {
      cause: error,
      hint: 'fix the permissions or exclude the path (backup.sources[].exclude); the run stored nothing',
    },
  );
}
