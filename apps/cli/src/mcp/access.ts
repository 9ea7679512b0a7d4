/**
 * What an MCP client may do, chosen when the server starts (`--access`):
 * `read` looks only; `operate` may also run a backup and restore (into the
 * configured restore roots); `full` may also delete a shard.
 */
export const ACCESS_LEVELS = ['read', 'operate', 'full'] as const;
export type AccessLevel = (typeof ACCESS_LEVELS)[number];

/** Whether a server started at `level` offers a tool that needs `needed`. */
export function allows(level: AccessLevel, needed: AccessLevel): boolean {
  return ACCESS_LEVELS.indexOf(level) >= ACCESS_LEVELS.indexOf(needed);
}
