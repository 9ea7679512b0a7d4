import { tmpdir } from 'node:os';
import type { PluginContext } from '@matric-backup/core';

export const testContext: PluginContext = {
  name: 'local-test',
  configDir: tmpdir(),
  tmpDir: tmpdir(),
  log: { debug() {}, info() {}, warn() {} },
};
