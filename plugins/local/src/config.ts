import { z } from 'zod';

export const localConfigSchema = z.strictObject({
  /** Folder the shards are written to; created (0700) on first use. Relative paths resolve against the config file. */
  path: z.string().min(1, 'a folder path'),
  /**
   * Where the disk holding `path` is mounted (a USB disk, an NFS mount). Every
   * operation first checks that something is mounted there; `path` must be
   * inside it.
   */
  mount_point: z.string().min(1, 'a folder path').optional(),
});

export type LocalConfig = z.output<typeof localConfigSchema>;
