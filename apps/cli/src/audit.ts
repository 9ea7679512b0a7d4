import { type AuditEntry, type LoadedConfig, writeAudit } from '@matric-backup/core';
import type { Printer } from './output/printer.js';

/**
 * Appends the command's line to `<state_dir>/audit.log`. A state folder that
 * cannot be written is a warning: the deletion or restore already happened, and
 * failing now would hide what it did.
 */
export async function recordAudit(
  printer: Printer,
  config: LoadedConfig,
  entry: Omit<AuditEntry, 'config'>,
): Promise<void> {
  try {
    await writeAudit(config.backup.state_dir, { config: config.file, ...entry });
  } catch (error) {
    printer.warn(`could not write the audit log in ${config.backup.state_dir}: ${(error as Error).message}`);
  }
}
