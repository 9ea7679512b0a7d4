import { mkdir, mkdtemp, realpath, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkRestoreTarget, targetInsideRoots } from '../src/operations/restore-roots.js';

describe('restore roots: the one check of the API and mcp', () => {
  let dir: string;
  let root: string;
  beforeAll(async () => {
    dir = await realpath(await mkdtemp(join(tmpdir(), 'mb-roots-')));
    root = join(dir, 'restore');
    await mkdir(join(root, 'kept'), { recursive: true });
    await mkdir(join(dir, 'restore-evil'));
    await symlink(dir, join(root, 'out'));
    await symlink(join(dir, 'outside', 'newdir'), join(root, 'dang'));
    await symlink(join(root, 'kept'), join(root, 'alias'));
    // A root spelled through a link (as /tmp on some systems) is still that root.
    await symlink(root, join(dir, 'root-link'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  const check = (target: string) => checkRestoreTarget(target, [root]);

  it('accepts a new or existing folder strictly inside the root, resolved', async () => {
    expect(await check(join(root, 'a', 'b'))).toEqual({ inside: true, path: join(root, 'a', 'b') });
    expect(await check(join(root, 'kept', 'x'))).toEqual({ inside: true, path: join(root, 'kept', 'x') });
    expect(await check(join(root, 'a', '..', 'b'))).toEqual({ inside: true, path: join(root, 'b') });
    expect(await check(join(root, 'alias', 'x'))).toEqual({ inside: true, path: join(root, 'kept', 'x') });
    expect(await check(join(dir, 'root-link', 'x'))).toEqual({ inside: true, path: join(root, 'x') });
  });

  it.each([
    ['the root itself', () => root, /is not inside/],
    ['a path out through ..', () => join(root, '..', 'x'), /is not inside/],
    ['a missing folder, then .. out', () => join(root, 'new', '..', '..', 'x'), /is not inside/],
    ['a sibling with the root as prefix', () => join(dir, 'restore-evil', 'x'), /is not inside/],
    ['a path through a link leading out', () => join(root, 'out', 'x'), /link leading out/],
    ['a link leading out and .. back in', () => join(root, 'out', 'restore', 'x'), /link leading out/],
    ['a path through a dangling link', () => join(root, 'dang', 'x'), /dangles/],
    ['a dangling link itself', () => join(root, 'dang'), /dangles/],
  ])('refuses %s', async (_, target, reason) => {
    const checked = await check(target());
    expect(checked).toMatchObject({ inside: false, reason: expect.stringMatching(reason) });
  });

  it('mcp: RESTORE_REFUSED with the reason, a relative path, and everything without a root', async () => {
    await expect(
      targetInsideRoots(join(root, 'dang', 'x'), [root], 'backup.api.restore_roots'),
    ).rejects.toMatchObject({
      code: 'RESTORE_REFUSED',
      message: expect.stringMatching(/dang is a symbolic link to nothing/),
    });
    await expect(targetInsideRoots('restore/x', [root], 'k')).rejects.toMatchObject({
      code: 'RESTORE_REFUSED',
    });
    await expect(targetInsideRoots(join(root, 'x'), [], 'backup.api.restore_roots')).rejects.toThrow(
      /backup.api.restore_roots lists no folder/,
    );
    await expect(targetInsideRoots(join(root, 'x'), [root], 'k')).resolves.toBe(join(root, 'x'));
  });
});
