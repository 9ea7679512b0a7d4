import { readFileSync } from 'node:fs';

/**
 * User and group names of this machine, read once from `/etc/passwd` and
 * `/etc/group` (what `ls -l` and GNU tar show for local accounts). Names served
 * only by NSS (LDAP, sssd) are not in those files: such ids are stored and
 * restored by number. Node has no getpwuid/getpwnam.
 */
export class AccountNames {
  private users?: Table;
  private groups?: Table;

  constructor(private readonly files = { passwd: '/etc/passwd', group: '/etc/group' }) {}

  userName(uid: number): string | undefined {
    this.users ??= readTable(this.files.passwd);
    return this.users.names.get(uid);
  }

  groupName(gid: number): string | undefined {
    this.groups ??= readTable(this.files.group);
    return this.groups.names.get(gid);
  }

  uidOf(name: string): number | undefined {
    this.users ??= readTable(this.files.passwd);
    return this.users.ids.get(name);
  }

  gidOf(name: string): number | undefined {
    this.groups ??= readTable(this.files.group);
    return this.groups.ids.get(name);
  }
}

interface Table {
  names: Map<number, string>;
  ids: Map<string, number>;
}

/** `name:x:id:...` lines; the first line wins for a name or an id given twice, as for getpwnam. */
function readTable(file: string): Table {
  const table: Table = { names: new Map(), ids: new Map() };
  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    // No such file (a minimal container): every owner goes by number.
    return table;
  }
  for (const line of text.split('\n')) {
    const [name, , id] = line.split(':');
    const number = Number(id);
    if (!name || id === undefined || id === '' || !Number.isInteger(number) || number < 0) continue;
    if (!table.names.has(number)) table.names.set(number, name);
    if (!table.ids.has(name)) table.ids.set(name, number);
  }
  return table;
}
