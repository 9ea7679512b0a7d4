import type { Destination, OperationOptions, TemporaryObject } from '@matric-backup/plugin-api';

/**
 * A Destination that hands every call to `inner` unchanged: the base each
 * wrapper spreads and then overrides the operations it changes. Calls go
 * through `inner` itself, so a plugin's class with private fields keeps working.
 */
export function forward(inner: Destination): Destination {
  const { deleteMany, listTemporary, deleteTemporary } = inner;
  return {
    put: (key, body, options) => inner.put(key, body, options),
    get: (key, options) => inner.get(key, options),
    list: (prefix, options) => inner.list(prefix, options),
    stat: (key, options) => inner.stat(key, options),
    delete: (key, options) => inner.delete(key, options),
    ...(deleteMany && {
      deleteMany: (keys: readonly string[], options?: OperationOptions) =>
        deleteMany.call(inner, keys, options),
    }),
    ...(listTemporary && {
      listTemporary: (options?: OperationOptions) => listTemporary.call(inner, options),
    }),
    ...(deleteTemporary && {
      deleteTemporary: (temporary: TemporaryObject, options?: OperationOptions) =>
        deleteTemporary.call(inner, temporary, options),
    }),
    check: () => inner.check(),
    close: () => inner.close(),
    ...(inner.localPath !== undefined && { localPath: inner.localPath }),
  };
}
