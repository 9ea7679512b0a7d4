import { displayName, maskMessages, redact } from '@matric-backup/core';
import { versioned } from './document.js';
import type { EventLog } from './event-log.js';
import { colorWanted, createStyle, type Style } from './style.js';

export interface PrinterOptions {
  json: boolean;
  /** `--json-lines`: events one per line on stdout as they happen; the document ends them as `finished`. */
  jsonLines?: boolean;
  verbose: boolean;
  color: boolean;
  stdout?: NodeJS.WriteStream;
  stderr?: NodeJS.WriteStream;
  env?: NodeJS.ProcessEnv;
  /**
   * `--log-format json`: every line this printer would write becomes a JSON log record on stdout,
   * and commands log their events (`backup created`, ...) there instead of their human report.
   */
  jsonLog?: EventLog;
}

/**
 * Everything the CLI prints goes through here, so every line is redacted with
 * the secrets of the loaded config; in a --json document only the messages are
 * (ids, keys, paths and names are data a script feeds back, never rewritten).
 * Results go to stdout (one JSON document with --json); warnings, progress and
 * errors go to stderr.
 */
export class Printer {
  /** Machine output on stdout: `--json` or `--json-lines`; no human lines. */
  readonly json: boolean;
  readonly jsonLines: boolean;
  readonly verbose: boolean;
  /** Styling for stdout. */
  readonly style: Style;
  /** Styling for stderr. */
  readonly errStyle: Style;
  readonly stdout: NodeJS.WriteStream;
  readonly stderr: NodeJS.WriteStream;
  /** The JSON event log when `--log-format json` was chosen; undefined for human output. */
  readonly jsonLog?: EventLog;
  private secrets: readonly string[] = [];
  /** The config's own names and paths: a secret inside one is masked only as a whole word. */
  private words: readonly string[] = [];

  constructor(options: PrinterOptions) {
    const env = options.env ?? process.env;
    this.jsonLines = options.jsonLines === true;
    this.json = options.json || this.jsonLines;
    this.verbose = options.verbose;
    this.stdout = options.stdout ?? process.stdout;
    this.stderr = options.stderr ?? process.stderr;
    this.jsonLog = options.jsonLog;
    const plain = options.json || this.jsonLog !== undefined;
    this.style = createStyle(!plain && colorWanted(options.color, this.stdout, env));
    this.errStyle = createStyle(this.jsonLog === undefined && colorWanted(options.color, this.stderr, env));
  }

  /** Progress bars only for a person watching: a TTY on stderr, and not --json. */
  get interactive(): boolean {
    return !this.json && this.jsonLog === undefined && this.stderr.isTTY === true;
  }

  addSecrets(secrets: readonly string[], words: readonly string[] = []): void {
    this.secrets = [...this.secrets, ...secrets];
    this.words = [...this.words, ...words];
  }

  /** Every human line passes here: secrets masked, and file name bytes that are not UTF-8 shown as `\xNN`. */
  redact(text: string): string {
    const shown = displayName(text);
    return this.secrets.length > 0 ? redact(shown, this.secrets, this.words) : shown;
  }

  /** A line of human output on stdout; ignored with --json. */
  line(text = ''): void {
    if (this.jsonLog) this.jsonLog.info(text);
    else if (!this.json) this.stdout.write(`${this.redact(text)}\n`);
  }

  /**
   * The one JSON document of a --json command, on stdout: `schema_version` first, on one line, so
   * `>> runs.jsonl` collects JSON Lines (`jq` pretty-prints it).
   */
  result(value: object): void {
    // A stream of events ends with the document as its `finished` event.
    if (this.jsonLines) {
      this.event('finished', value);
      return;
    }
    const document = versioned(value);
    // As a log record, the document is one line like every other; the event log masks its messages.
    if (this.jsonLog) {
      this.jsonLog.info({ result: document }, 'result');
      return;
    }
    this.jsonLine(document);
  }

  /** A `--json-lines` event, as it happens: `{schema_version, event, time, ...fields}`; nothing without --json-lines. */
  event(name: string, fields: object = {}): void {
    if (this.jsonLines) this.jsonLine(versioned({ event: name, time: new Date().toISOString(), ...fields }));
  }

  /** One JSON object on its own line on stdout, its messages masked: a document or a `--json-lines` event. */
  jsonLine(value: object): void {
    const masked = this.secrets.length > 0 ? maskMessages(value, (text) => this.redact(text)) : value;
    this.stdout.write(`${JSON.stringify(masked)}\n`);
  }

  warn(text: string): void {
    if (this.jsonLog) this.jsonLog.warn(text);
    else this.stderr.write(`${this.errStyle.warn('warning:')} ${this.redact(text)}\n`);
  }

  /** Progress narration for people; silent with --json. */
  note(text: string): void {
    if (this.jsonLog) this.jsonLog.info(text);
    else if (!this.json) this.stderr.write(`${this.redact(text)}\n`);
  }

  /** A line of the run's log (what a hook wrote) on stderr, with --json too: scripts keep stdout to parse. */
  log(text: string): void {
    this.stderr.write(`${this.redact(text)}\n`);
  }

  debug(text: string): void {
    if (this.jsonLog) this.jsonLog.debug(text);
    else if (this.verbose) this.stderr.write(`${this.errStyle.dim(this.redact(text))}\n`);
  }

  /** Already formatted `error:` / `hint:` lines. */
  error(text: string): void {
    if (this.jsonLog) this.jsonLog.error(text);
    else this.stderr.write(`${this.redact(text)}\n`);
  }
}
