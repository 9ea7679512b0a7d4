import { appendFile, chmod } from 'node:fs/promises';
import { makeFolders } from '@matric-backup/plugin-api';

/** State folders are 0700 and files 0600: run records name hosts, paths and errors. */
export async function ensureStateDir(dir: string): Promise<void> {
  await makeFolders(dir, 0o700);
}

/** Appends one line; O_APPEND keeps concurrent writers' lines whole. */
export async function appendLine(file: string, line: string): Promise<void> {
  await appendFile(file, `${line}\n`, { mode: 0o600 });
  await chmod(file, 0o600);
}
