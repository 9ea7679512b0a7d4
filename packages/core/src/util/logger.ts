import type { PluginLogger } from '@matric-backup/plugin-api';
import { redact } from './redact.js';

export interface LoggerOptions {
  /** Printed in front of each line, e.g. the destination name. */
  prefix?: string;
  /** Debug lines are dropped unless set (MATRIC_BACKUP_DEBUG=1 in the CLI). */
  debug?: boolean;
  write?: (line: string) => void;
}

/** A stderr logger that masks every secret before it leaves the process. */
export function createLogger(secrets: readonly string[], options: LoggerOptions = {}): PluginLogger {
  const write = options.write ?? ((line: string) => process.stderr.write(line));
  const prefix = options.prefix ? `[${options.prefix}] ` : '';
  const emit = (level: string, message: string) => write(`${prefix}${level}: ${redact(message, secrets)}\n`);
  return {
    debug: (message) => {
      if (options.debug) emit('debug', message);
    },
    info: (message) => emit('info', message),
    warn: (message) => emit('warn', message),
  };
}
