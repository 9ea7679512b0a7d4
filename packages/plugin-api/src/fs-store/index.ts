// @matric-backup/plugin-api/fs-store: a Destination over a folder, for a plugin
// whose objects are files on a mounted filesystem (the local and SMB mount-mode
// destinations use it). A subpath of its own, so plugins that store elsewhere do
// not load it.

// Core writes its spool files with it too: those local destinations keep go past the page cache.
export { DirectFiles } from './direct-files.js';
export { createFsStore, type FsStoreOptions } from './store.js';
