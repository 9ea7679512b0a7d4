import { maskMessages } from '@matric-backup/core';

export type LogFormat = 'json' | 'text';
type LogLevel = 'debug' | 'info' | 'warn' | 'error';

type LogMethod = {
  (fields: object, message: string): void;
  (message: string): void;
};

/**
 * Where events and narration go: `json` is one object a line on stdout (pino), for journald, Loki or
 * any log pipeline; `text` is a line for people on stderr. The calls are pino's, so `serve`'s code
 * logs the same way whichever format the user chose.
 */
export interface EventLog {
  readonly format: LogFormat;
  debug: LogMethod;
  info: LogMethod;
  warn: LogMethod;
  error: LogMethod;
  /** The same log with `fields` added to every record (the caller of an API request). */
  child(fields: Record<string, unknown>): EventLog;
}

export interface EventLogOptions {
  format: LogFormat;
  /** Masks the config's secrets in a message; applied to messages only, never to ids, keys or data. */
  redact: (text: string) => string;
  /** Debug records are dropped unless set (--verbose). */
  verbose: boolean;
  stdout?: NodeJS.WritableStream;
  stderr?: NodeJS.WritableStream;
}

/**
 * The event log of this process. Fields named like messages (`message`, `error`, `reason`,
 * `hint`, ... see maskMessages) are masked; every other field is data and written as given. pino
 * is loaded only here, only for the json format: `run`, `--help` and `--version` never load it
 * when text is chosen.
 */
export async function createEventLog(options: EventLogOptions): Promise<EventLog> {
  const mask = (fields: object) => maskMessages(fields, options.redact);
  if (options.format === 'text') return textLog(options, mask);
  const { pino } = await import('pino');
  const logger = pino(
    {
      level: options.verbose ? 'debug' : 'info',
      // The field names of the original design's log events: `level` as a word, `timestamp`, `message`.
      messageKey: 'message',
      timestamp: () => `,"timestamp":"${new Date().toISOString()}"`,
      formatters: { level: (label) => ({ level: label }) },
      // journald and docker record the pid themselves.
      base: { service: 'matric-backup' },
      hooks: {
        logMethod(args, method) {
          const [first, second] = args as unknown[];
          if (typeof first === 'string') return method.call(this, options.redact(first));
          return method.call(this, mask(first as object), options.redact(String(second ?? '')));
        },
      },
    },
    options.stdout ?? process.stdout,
  );
  return pinoLog(logger);
}

function pinoLog(logger: import('pino').Logger): EventLog {
  const method =
    (level: LogLevel): LogMethod =>
    (first: object | string, second?: string) =>
      typeof first === 'string' ? logger[level](first) : logger[level](first, second ?? '');
  return {
    format: 'json',
    debug: method('debug'),
    info: method('info'),
    warn: method('warn'),
    error: method('error'),
    child: (fields) => pinoLog(logger.child(fields)),
  };
}

/** `warn: backup cleanup skipped (destination=usb reason="no retention policy")` on stderr. */
function textLog(
  options: EventLogOptions,
  mask: (fields: object) => object,
  inherited: Record<string, unknown> = {},
): EventLog {
  const stream = options.stderr ?? process.stderr;
  const method =
    (level: LogLevel): LogMethod =>
    (first: object | string, second?: string) => {
      if (level === 'debug' && !options.verbose) return;
      const [fields, message] =
        typeof first === 'string'
          ? [mask(inherited), first]
          : [mask({ ...inherited, ...first }), second ?? ''];
      const pairs = Object.entries(fields)
        .filter(([, value]) => value !== undefined)
        .map(
          ([key, value]) =>
            `${key}=${typeof value === 'string' && /^[^\s"=]+$/.test(value) ? value : JSON.stringify(value)}`,
        );
      const prefix = level === 'info' ? '' : `${level}: `;
      stream.write(`${prefix}${options.redact(message)}${pairs.length ? ` (${pairs.join(' ')})` : ''}\n`);
    };
  return {
    format: 'text',
    debug: method('debug'),
    info: method('info'),
    warn: method('warn'),
    error: method('error'),
    child: (fields) => textLog(options, mask, { ...inherited, ...fields }),
  };
}
