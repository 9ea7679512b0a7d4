import picomatch from 'picomatch';

/**
 * include/exclude globs of a directory source, matched against the path relative
 * to the source's root (`docs/a.md`, no leading `./`), dot files included.
 */
export interface PathFilter {
  /** An excluded folder is not descended into. */
  isExcluded(relativePath: string): boolean;
  /** With no include globs everything not excluded is included. */
  isIncluded(relativePath: string): boolean;
  /** When include globs are set, folders are kept only if they match or hold something included. */
  readonly narrowed: boolean;
  /** The first exclude glob matching an excluded path (for `run -vv`; slower than isExcluded). */
  excludedBy(relativePath: string): string | undefined;
}

export function createPathFilter(
  include: readonly string[] = [],
  exclude: readonly string[] = [],
): PathFilter {
  const options = { dot: true };
  const excluded = exclude.length > 0 ? picomatch([...exclude], options) : () => false;
  const included = include.length > 0 ? picomatch([...include], options) : () => true;
  let each: Array<[string, (path: string) => boolean]> | undefined;
  return {
    isExcluded: (path) => excluded(path),
    isIncluded: (path) => included(path),
    narrowed: include.length > 0,
    excludedBy: (path) => {
      each ??= exclude.map((glob) => [glob, picomatch(glob, options)]);
      return each.find(([, matches]) => matches(path))?.[0];
    },
  };
}
