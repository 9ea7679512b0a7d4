import { join } from 'node:path';
import { expect } from 'vitest';
import { runCli } from './cli.js';
import { type DestinationSpec, writeConfig } from './config.js';
import { diffTrees } from './tree.js';

/** The parts of `run --json` the fan-out tests look at. */
export interface RunJson {
  id: string;
  archive: { key: string; sha256: string };
  destinations: Array<{ name: string; status: string }>;
}

/** A config in `dir` backing up `source` as the directory source `data`; no retries unless given. */
export function dataConfig(
  dir: string,
  source: string,
  name: string,
  destinations: DestinationSpec[],
  retry: object = { max_retries: 0 },
): Promise<string> {
  return writeConfig(
    dir,
    { sources: [{ name: 'data', type: 'directory', path: source }], destinations, retry },
    name,
  );
}

/** `run --json`: exit 0 and every destination, in this order, a success. Returns the summary. */
export async function runToAll(config: string, names: string[]): Promise<RunJson> {
  const run = await runCli(['run', '-c', config, '--json']);
  expect(run.code, run.stderr).toBe(0);
  const summary = JSON.parse(run.stdout) as RunJson;
  expect(summary.destinations.map((d) => [d.name, d.status])).toEqual(names.map((name) => [name, 'success']));
  return summary;
}

/** `verify ID -d NAME --json`: exit 0, and the shard found intact on that destination. */
export async function expectVerified(config: string, id: string, name: string): Promise<void> {
  const verify = await runCli(['verify', id, '-d', name, '-c', config, '--json']);
  expect(verify.code, verify.stderr).toBe(0);
  expect(JSON.parse(verify.stdout).results).toMatchObject([{ destination: name, id, ok: true }]);
}

/** `restore latest -d NAME --to TARGET`: exit 0, restored from NAME alone, files identical to `source`. */
export async function expectRestored(
  config: string,
  name: string,
  target: string,
  source: string,
): Promise<void> {
  const restore = await runCli(['restore', 'latest', '-d', name, '--to', target, '-c', config]);
  expect(restore.code, restore.stderr).toBe(0);
  expect(restore.stdout).toContain(`from destination "${name}"`);
  expect(await diffTrees(source, join(target, 'data'))).toEqual([]);
}
