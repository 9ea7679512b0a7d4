import picomatch from 'picomatch';

/** A path as typed: archive paths have no leading or trailing slash. */
function archivePath(typed: string): string {
  return typed.replace(/^\/+/, '').replace(/\/+$/, '');
}

/**
 * What a typed path may stand for: itself, and, when it holds `\xNN` (80-ff),
 * the name with those raw bytes, as `ls` shows a name that is not UTF-8 (the
 * shell cannot pass such bytes through as text).
 */
export function typedPaths(typed: string): string[] {
  const path = archivePath(typed);
  const raw = path.replace(/\\x([89a-fA-F][0-9a-fA-F])/g, (_match, hex: string) =>
    String.fromCharCode(0xdc00 + Number.parseInt(hex, 16)),
  );
  return raw === path ? [path] : [path, raw];
}

/**
 * Whether an archive path is selected by `ls`'s patterns: a pattern (a glob:
 * `*`, `**`, `?`, `[...]`, `{a,b}`; dot files match) selects the paths it
 * matches and everything under them, so `data/etc` lists that folder's tree.
 * No pattern selects everything.
 */
export function treeSelector(patterns: readonly string[]): (path: string) => boolean {
  if (patterns.length === 0) return () => true;
  const matchers = patterns.flatMap(typedPaths).map((pattern) => picomatch(pattern, { dot: true }));
  return (path) => {
    for (let at = path; ; at = at.slice(0, at.lastIndexOf('/'))) {
      if (matchers.some((matches) => matches(at))) return true;
      if (!at.includes('/')) return false;
    }
  };
}

/**
 * `find`'s patterns: one without a slash matches the last part of a path (like
 * `find -name`), one with a slash the whole archive path. Any pattern matching
 * selects the path.
 */
export function nameSelector(patterns: readonly string[]): (path: string) => boolean {
  const matchers = patterns.flatMap(typedPaths).map((typed) => {
    const matches = picomatch(typed, { dot: true });
    return typed.includes('/') ? matches : (path: string) => matches(path.slice(path.lastIndexOf('/') + 1));
  });
  return (path) => matchers.some((matches) => matches(path));
}
