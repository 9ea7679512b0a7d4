import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ownerResolver } from '../src/restore/owners.js';
import { AccountNames } from '../src/util/account-names.js';

let dir: string;
let accounts: AccountNames;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mb-owners-'));
  await writeFile(
    join(dir, 'passwd'),
    'root:x:0:0:root:/root:/bin/bash\nalice:x:1001:1001::/home/alice:/bin/sh\nbroken line\nalias:x:1001:1001::/:/bin/sh\n',
  );
  await writeFile(join(dir, 'group'), 'root:x:0:\nshadow:x:42:\nstaff:x:50:alice\n');
  accounts = new AccountNames({ passwd: join(dir, 'passwd'), group: join(dir, 'group') });
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('account names', () => {
  it('maps ids to names and back, the first line winning', () => {
    expect([accounts.userName(1001), accounts.userName(7)]).toEqual(['alice', undefined]);
    expect([accounts.uidOf('alias'), accounts.gidOf('shadow'), accounts.gidOf('nope')]).toEqual([
      1001,
      42,
      undefined,
    ]);
  });

  it('treats missing files as no names at all', () => {
    const none = new AccountNames({ passwd: join(dir, 'absent'), group: join(dir, 'absent') });
    expect([none.userName(0), none.gidOf('root')]).toEqual([undefined, undefined]);
  });
});

describe('the owner a restore gives', () => {
  it('prefers the local id of a recorded name, else the recorded id', () => {
    const ownerOf = ownerResolver(false, accounts);
    // Made where alice was 1500 and shadow 77: here they are 1001 and 42.
    expect(ownerOf({ uid: 1500, gid: 77, user: 'alice', group: 'shadow' })).toEqual({ uid: 1001, gid: 42 });
    expect(ownerOf({ uid: 1500, gid: 77, user: 'unknown', group: 'shadow' })).toEqual({ uid: 1500, gid: 42 });
    expect(ownerOf({ uid: 1500, gid: 77 })).toEqual({ uid: 1500, gid: 77 });
  });

  it('uses the recorded ids only with numeric owners, and nothing when none were recorded', () => {
    expect(ownerResolver(true, accounts)({ uid: 1500, gid: 77, user: 'alice', group: 'shadow' })).toEqual({
      uid: 1500,
      gid: 77,
    });
    expect(ownerResolver(false, accounts)({ user: 'alice', group: 'shadow' })).toBeUndefined();
  });
});
