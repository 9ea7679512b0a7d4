import type { RunEvent } from './types.js';

/** Lines kept: a ping body shows the end of the run, and memory stays bounded however chatty a hook is. */
const KEPT_LINES = 200;

/** The run's log as a monitor reads it: warnings and hook output, the last 200 lines, already masked. */
export class RunLog {
  readonly lines: string[] = [];

  add(event: RunEvent): void {
    if (event.type === 'warning') this.push(`warning: ${event.warning.message}`);
    else if (event.type === 'hook-output') this.push(`${event.hook}: ${event.line}`);
  }

  private push(line: string): void {
    this.lines.push(line);
    if (this.lines.length > KEPT_LINES) this.lines.shift();
  }
}
