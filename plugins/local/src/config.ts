import { z } from 'zod';

export const localConfigSchema = z.strictObject({
  /** Folder the shards are written to; created (0700) on first use. Relative paths resolve against the config file. */
  path: z.string().min(1, 'a folder path'),
});

export type LocalConfig = z.output<typeof localConfigSchema>;
