// @ts-check
// The worker-thread half of FileWriter (file-writer.ts), which documents the
// protocol. Plain JavaScript: a worker runs a file as Node finds it, and tests
// run core from its TypeScript sources.
import { createHash } from 'node:crypto';
import {
  chmodSync,
  closeSync,
  constants,
  fchmodSync,
  fchownSync,
  fstatSync,
  ftruncateSync,
  futimesSync,
  linkSync,
  lstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  symlinkSync,
  writeSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import { fsPath } from '../util/names.mjs';

/** Never follow a link at the final component, never reuse an existing file. */
const CREATE_FLAGS = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;
/** A file an earlier link restored, to append to: read (its start is hashed) and written, never through a link, never truncated. */
const APPEND_FLAGS = constants.O_RDWR | constants.O_NOFOLLOW;
/** How much of an appended file's start is read at a time to hash it. */
const READ_CHUNK = 1 << 20;
/**
 * Aligned blocks of this size that hold only zeros are not written: they stay
 * holes, so a sparse file comes back sparse (a file of zeros becomes one too,
 * as with `cp --sparse=always`). The usual file system block.
 */
const HOLE_BLOCK = 4096;
const ZEROS = Buffer.alloc(HOLE_BLOCK);

const port = /** @type {import('node:worker_threads').MessagePort} */ (parentPort);
const { root, sourceRoots, tree, control, busy } =
  /** @type {{ root: string; sourceRoots?: Record<string, string>; tree?: { root: string; sourceRoots?: Record<string, string> }; control: SharedArrayBuffer; busy: number }} */ (
    workerData
  );
/** STOP, shared by every writer thread, and this thread's BUSY flag at `busy`: see FileWriter.halt(). */
const flags = new Int32Array(control);
const STOP = 0;
const BUSY = busy;
/** Folders made or found so far (absolute). */
const made = new Set([root, ...Object.values(sourceRoots ?? {})]);
/**
 * The owner every file this thread creates gets by itself: the process's ids,
 * unless a root is group-inherited (setgid, or owned by another group). A file
 * whose recorded owner is that one needs no fchown.
 */
const ownIds = ownerOfNewFiles();
/** This process's umask, to create a file with its mode when the umask leaves that whole. */
const umask = umaskOf();
/**
 * The file being written. `written`: where its last written byte ends; zero
 * blocks after it were skipped, so only a file with such a tail needs
 * ftruncate for its size. `chown`: the owner to give it, when it does
 * not have that one already; `modeNow`: created with its mode (then it needs no fchmod);
 * `from`: appended to, it had this many bytes.
 * @type {{ path: string; fd: number; hash: import('node:crypto').Hash; size: number; written: number; op: { mode: number; mtimeMs: number; uid?: number; gid?: number }; chown?: { uid: number; gid: number }; modeNow: boolean; from?: number } | undefined}
 */
let open;
let failed = false;

class Refused extends Error {}

port.on('message', (/** @type {{ ops: any[]; data: ArrayBuffer }} */ batch) => {
  if (failed) return;
  Atomics.store(flags, BUSY, 1);
  try {
    writeBatch(batch);
  } finally {
    Atomics.store(flags, BUSY, 0);
    Atomics.notify(flags, BUSY);
  }
});

function writeBatch(/** @type {{ ops: any[]; data: ArrayBuffer }} */ batch) {
  /** @type {Array<{ path: string; size: number; sha256: string; mode: number; mtimeMs: number; uid?: number; gid?: number }>} */
  const files = [];
  try {
    const data = Buffer.from(batch.data);
    for (const op of batch.ops) {
      if (Atomics.load(flags, STOP)) {
        failed = true;
        return;
      }
      if (op.op === 'dir') makeFolder(place(op.path));
      else if (op.op === 'symlink') {
        const target = place(op.path);
        makeFolder(dirname(target));
        noLinkAbove(op.path);
        onlyOnce(op.path, () => symlinkSync(fsPath(op.target), fsPath(target)));
      } else if (op.op === 'link') {
        const target = place(op.path);
        makeFolder(dirname(target));
        const existing = place(op.target);
        // The guard let through only a file entry before this one; what is on disk must be that file.
        if (!lstatSync(fsPath(existing), { throwIfNoEntry: false })?.isFile()) {
          throw new Refused(`${op.path}: hard link to ${op.target}, which is not a restored file`);
        }
        onlyOnce(op.path, () => linkSync(fsPath(existing), fsPath(target)));
      } else if (op.op === 'open') {
        const target = place(op.path);
        makeFolder(dirname(target));
        const chown = chownOf(op);
        // Created with its mode when nothing would change it afterwards (the folder is private anyway).
        const modeNow = !chown && (op.mode & ~0o777) === 0 && umask !== undefined && (op.mode & umask) === 0;
        const fd = onlyOnce(op.path, () => openSync(fsPath(target), CREATE_FLAGS, modeNow ? op.mode : 0o600));
        open = { path: op.path, fd, hash: createHash('sha256'), size: 0, written: 0, op, chown, modeNow };
      } else if (op.op === 'append') {
        open = openToAppend(op);
      } else if (op.op === 'data') {
        const file = /** @type {NonNullable<typeof open>} */ (open);
        const chunk = data.subarray(op.start, op.end);
        file.hash.update(chunk);
        const end = writeSparse(file.fd, chunk, file.size);
        if (end > 0) file.written = end;
        file.size += chunk.length;
      } else if (op.op === 'close') {
        const file = /** @type {NonNullable<typeof open>} */ (open);
        const { mode, mtimeMs, uid, gid } = file.op;
        const { chown } = file;
        open = undefined;
        try {
          // Zero blocks at the end were skipped: the size comes from here.
          if (file.written < file.size) ftruncateSync(file.fd, file.size);
          // What creation was expected to give is checked, not trusted: a default ACL on the folder replaces
          // the umask, and a folder can pass on another group.
          const made = file.modeNow || (uid !== undefined && !chown) ? fstatSync(file.fd) : undefined;
          const owner =
            chown ??
            (made && uid !== undefined && (made.uid !== uid || made.gid !== gid) ? { uid, gid } : undefined);
          // Before the mode: a change of owner clears setuid/setgid.
          if (owner) fchownSync(file.fd, owner.uid, /** @type {number} */ (owner.gid));
          if (owner || !file.modeNow || ((made?.mode ?? 0) & 0o7777) !== mode) fchmodSync(file.fd, mode);
          // Seconds before 1970 as a number would be taken for "now"; a Date keeps them.
          const time = mtimeMs < 0 ? new Date(mtimeMs) : mtimeMs / 1000;
          futimesSync(file.fd, time, time);
        } finally {
          closeSync(file.fd);
        }
        files.push({
          path: file.path,
          size: file.size,
          sha256: file.hash.digest('hex'),
          mode,
          mtimeMs,
          uid,
          gid,
          ...(file.from !== undefined && { appendedTo: file.from }),
        });
      }
    }
    port.postMessage({ type: 'done', files, data: batch.data }, [batch.data]);
  } catch (error) {
    failed = true;
    if (open) closeSync(open.fd);
    port.postMessage({ type: 'failed', error: describe(error) });
  }
}

/** The owner to give a file with fchown, unless files this thread creates get it anyway. */
function chownOf(/** @type {{ uid?: number; gid?: number }} */ op) {
  return op.uid !== undefined && !(ownIds && op.uid === ownIds.uid && op.gid === ownIds.gid)
    ? { uid: op.uid, gid: /** @type {number} */ (op.gid) }
    : undefined;
}

/**
 * Opens the file an earlier link of the chain restored into the tree, to
 * append the bytes it gained since: a regular file of one name, reached
 * through real folders only (the tree may hold an earlier link's symbolic
 * links), never truncated. Its start is read and hashed, so what `close`
 * reports is the whole file's sha256, checked against the manifest.
 */
function openToAppend(
  /** @type {{ path: string; mode: number; mtimeMs: number; uid?: number; gid?: number }} */ op,
) {
  const refuse = (/** @type {string} */ why) =>
    new Refused(`${op.path}: bytes appended to a file that ${why}`);
  if (!tree) throw refuse('no earlier link of a chain restored');
  const inTree = (/** @type {string} */ path) => placeIn(path, tree.root, tree.sourceRoots);
  noLinkAbove(op.path, inTree);
  const target = fsPath(inTree(op.path));
  let fd;
  try {
    fd = openSync(target, APPEND_FLAGS);
  } catch (error) {
    const code = /** @type {NodeJS.ErrnoException} */ (error).code;
    if (code === 'ENOENT' || code === 'ELOOP' || code === 'EISDIR')
      throw refuse('the earlier links did not restore');
    // A read-only file (not as root): ours, in the private folder, and given its mode again at `close`.
    const info = code === 'EACCES' ? lstatSync(target, { throwIfNoEntry: false }) : undefined;
    if (!info?.isFile()) throw error;
    chmodSync(target, (info.mode & 0o7777) | 0o600);
    fd = openSync(target, APPEND_FLAGS);
  }
  try {
    const info = fstatSync(fd);
    if (!info.isFile() || info.nlink !== 1)
      throw refuse('the earlier links did not restore as a file of its own');
    const hash = createHash('sha256');
    const buffer = Buffer.allocUnsafe(READ_CHUNK);
    for (let position = 0; position < info.size; ) {
      const read = readSync(fd, buffer, 0, Math.min(READ_CHUNK, info.size - position), position);
      if (read === 0) throw refuse('changed while it was read');
      hash.update(buffer.subarray(0, read));
      position += read;
    }
    const size = info.size;
    return {
      path: op.path,
      fd,
      hash,
      size,
      written: size,
      op,
      chown: chownOf(op),
      modeNow: false,
      from: size,
    };
  } catch (error) {
    closeSync(fd);
    throw error;
  }
}

/**
 * Writes `chunk` at `position` of a new file, leaving its all-zero blocks
 * unwritten: they read back as zeros, and stay holes unless data is written
 * into the same block. Returns the file offset where the last bytes written
 * end, 0 when all of `chunk` was zeros.
 */
function writeSparse(/** @type {number} */ fd, /** @type {Buffer} */ chunk, /** @type {number} */ position) {
  let run = -1;
  let offset = 0;
  let written = 0;
  while (offset < chunk.length) {
    const end = Math.min(chunk.length, offset + HOLE_BLOCK - ((position + offset) % HOLE_BLOCK));
    // A chunk rarely starts or ends on a block boundary: its zero edges are skipped too, so the
    // block they share with the next chunk stays a hole if that one's part is zero as well.
    // Most blocks of data start or end with a non-zero byte: the whole block is compared only otherwise.
    const hole =
      chunk[offset] === 0 && chunk[end - 1] === 0 && ZEROS.compare(chunk, offset, end, 0, end - offset) === 0;
    if (hole && run >= 0) {
      writeAll(fd, chunk.subarray(run, offset), position + run);
      written = position + offset;
      run = -1;
    } else if (!hole && run < 0) run = offset;
    offset = end;
  }
  if (run >= 0) {
    writeAll(fd, chunk.subarray(run), position + run);
    written = position + chunk.length;
  }
  return written;
}

function writeAll(/** @type {number} */ fd, /** @type {Buffer} */ bytes, /** @type {number} */ position) {
  for (let done = 0; done < bytes.length; )
    done += writeSync(fd, bytes, done, bytes.length - done, position + done);
}

/**
 * The ids a file created under the roots gets: this process's, when no root
 * passes on another group (its group is ours and it has no setgid bit, so the
 * folders made below it do not either: mkdir here is 0700). Undefined when
 * that cannot be told; then every recorded owner is set with fchown.
 */
function ownerOfNewFiles() {
  const uid = process.geteuid?.();
  const gid = process.getegid?.();
  if (uid === undefined || gid === undefined) return undefined;
  for (const folder of made) {
    const info = lstatSync(fsPath(folder), { throwIfNoEntry: false });
    if (!info || info.gid !== gid || info.mode & 0o2000) return undefined;
  }
  return { uid, gid };
}

/**
 * Read from /proc (Linux): process.umask() cannot be read without setting it,
 * and a worker cannot set it. Undefined elsewhere: files are then created 0600
 * and given their mode with fchmod.
 */
function umaskOf() {
  try {
    const match = /^Umask:\s*([0-7]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'));
    return match ? Number.parseInt(match[1], 8) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Where an archive path is written: under `root`, or, with `sourceRoots`
 * (`restore --in-place`), under the folder of its source (its first component).
 */
function place(/** @type {string} */ path) {
  return placeIn(path, root, sourceRoots);
}

/** place() for the given roots (the tree an appended file is in, for one). */
function placeIn(
  /** @type {string} */ path,
  /** @type {string} */ root,
  /** @type {Record<string, string> | undefined} */ sourceRoots,
) {
  if (!sourceRoots) return join(root, path);
  const slash = path.indexOf('/');
  const source = slash < 0 ? path : path.slice(0, slash);
  const base = Object.hasOwn(sourceRoots, source) ? sourceRoots[source] : undefined;
  if (base === undefined) throw new Refused(`${path}: not in a source being restored`);
  return slash < 0 ? base : join(base, path.slice(slash + 1));
}

/** Runs `create`; an existing path means the archive holds the entry twice. */
function onlyOnce(/** @type {string} */ path, /** @type {() => any} */ create) {
  try {
    return create();
  } catch (error) {
    if (/** @type {NodeJS.ErrnoException} */ (error).code === 'EEXIST') {
      throw new Refused(`${path}: appears more than once in the archive`);
    }
    throw error;
  }
}

/**
 * Creates a folder and its parents under `root` (0700 until the manifest's modes
 * are applied), checking on the way that no component is a symlink: the guard
 * already refuses archive paths through a link, this also holds on
 * case-insensitive file systems where `A` and `a` are the same name.
 */
function makeFolder(/** @type {string} */ folder) {
  if (made.has(folder)) return;
  makeFolder(dirname(folder));
  const info = lstatSync(fsPath(folder), { throwIfNoEntry: false }) ?? makeOne(folder);
  if (info && !info.isDirectory()) {
    const relative = folder.slice(root.length + 1);
    throw new Refused(
      `${relative}: is ${info.isSymbolicLink() ? 'a symbolic link' : 'a file'} and a folder in the archive`,
    );
  }
  made.add(folder);
}

/**
 * Makes `folder`; undefined when made here. Another writer thread may have made
 * it since the lstat (each makes the folders above its own files): then what is
 * there now is returned, to be checked as any folder found.
 */
function makeOne(/** @type {string} */ folder) {
  try {
    mkdirSync(fsPath(folder), { mode: 0o700 });
    return undefined;
  } catch (error) {
    if (/** @type {NodeJS.ErrnoException} */ (error).code !== 'EEXIST') throw error;
    return lstatSync(fsPath(folder));
  }
}

/**
 * Links come last, once every folder exists: each folder above one is checked
 * again with lstat, uncached, so whatever happened since `makeFolder` saw it,
 * creating the link never goes through another link.
 */
function noLinkAbove(/** @type {string} */ path, where = place) {
  for (let end = path.indexOf('/'); end > 0; end = path.indexOf('/', end + 1)) {
    const folder = path.slice(0, end);
    const info = lstatSync(fsPath(where(folder)), { throwIfNoEntry: false });
    if (!info?.isDirectory()) {
      throw new Refused(`${path}: its folder ${folder} is ${info ? 'not a folder' : 'missing'} on disk`);
    }
  }
}

/** An error as plain data: structured clone keeps neither the class nor errno fields reliably. */
function describe(/** @type {unknown} */ error) {
  const { code, syscall, path, errno } = /** @type {NodeJS.ErrnoException} */ (error ?? {});
  return {
    refused: error instanceof Refused,
    message: error instanceof Error ? error.message : String(error),
    code,
    syscall,
    path,
    errno,
  };
}
