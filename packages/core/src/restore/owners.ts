import { AccountNames } from '../util/account-names.js';

/** The owner fields a tar header or a manifest entry carries. */
interface RecordedOwner {
  uid?: number;
  gid?: number;
  user?: string;
  group?: string;
}

/** The ids an entry is given, or undefined when its owner was not recorded. */
export type OwnerOf = (recorded: RecordedOwner) => { uid: number; gid: number } | undefined;

/**
 * How a restore that keeps owners picks each entry's ids: by recorded name
 * when this machine knows it (uids differ between machines, names rarely
 * do), else by the recorded number, as GNU tar does; `numeric` uses the
 * numbers only (`--numeric-owner`).
 */
export function ownerResolver(numeric: boolean, accounts = new AccountNames()): OwnerOf {
  return ({ uid, gid, user, group }) => {
    if (uid === undefined || gid === undefined) return undefined;
    if (numeric) return { uid, gid };
    return {
      uid: (user === undefined ? undefined : accounts.uidOf(user)) ?? uid,
      gid: (group === undefined ? undefined : accounts.gidOf(group)) ?? gid,
    };
  };
}
