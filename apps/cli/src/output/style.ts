/** Minimal ANSI styling; disabled by --no-color, NO_COLOR, or a non-TTY stream. */
export interface Style {
  ok(text: string): string;
  bad(text: string): string;
  warn(text: string): string;
  dim(text: string): string;
  bold(text: string): string;
}

const wrap = (open: number, close: number) => (text: string) => `\u001b[${open}m${text}\u001b[${close}m`;
const identity = (text: string) => text;

export function createStyle(enabled: boolean): Style {
  if (!enabled) return { ok: identity, bad: identity, warn: identity, dim: identity, bold: identity };
  return { ok: wrap(32, 39), bad: wrap(31, 39), warn: wrap(33, 39), dim: wrap(2, 22), bold: wrap(1, 22) };
}

export function colorWanted(requested: boolean, stream: NodeJS.WriteStream, env: NodeJS.ProcessEnv): boolean {
  return requested && !('NO_COLOR' in env) && env.TERM !== 'dumb' && stream.isTTY === true;
}
