import type { Destination } from '@matric-backup/plugin-api';

/**
 * A Destination that hands every call to `inner` unchanged: the base each
 * wrapper spreads and then overrides the operations it changes. Calls go
 * through `inner` itself, so a plugin's class with private fields keeps working.
 */
export function forward(inner: Destination): Destination {
  const { deleteMany, listTemporary } = inner;
  return {
    put: (key, body, options) => inner.put(key, body, options),
    get: (key) => inner.get(key),
    list: (prefix) => inner.list(prefix),
    stat: (key) => inner.stat(key),
    delete: (key) => inner.delete(key),
    ...(deleteMany && { deleteMany: (keys: readonly string[]) => deleteMany.call(inner, keys) }),
    ...(listTemporary && { listTemporary: () => listTemporary.call(inner) }),
    check: () => inner.check(),
    close: () => inner.close(),
    ...(inner.localPath !== undefined && { localPath: inner.localPath }),
  };
}
