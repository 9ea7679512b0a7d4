import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { expect } from 'vitest';
import { REPO_ROOT } from './cli.js';

const SCHEMAS = join(REPO_ROOT, 'docs/schemas');

/** Every published schema, compiled once: strict, so a schema with a typo fails here too. */
const ajv = new Ajv2020({ strict: true, allowUnionTypes: true, allErrors: true });
addFormats.default(ajv);
/** A document's name (`run`, `ls` ...) -> its schema's $id. */
const ids = new Map<string, string>();
for (const file of readdirSync(SCHEMAS).filter((name) => name.endsWith('.json'))) {
  const schema = JSON.parse(readFileSync(join(SCHEMAS, file), 'utf8')) as { $id: string };
  ajv.addSchema(schema);
  ids.set(file.replace(/(\.schema)?\.json$/, ''), schema.$id);
}
// Compiled now, so a mistake in any schema fails every test that checks one.
for (const id of ids.values()) ajv.getSchema(id);

/** The schema's problems with `value`, as `path: message` lines; [] when it is valid. */
export function schemaProblems(document: string, value: unknown): string[] {
  const validate = ajv.getSchema(ids.get(document) ?? document);
  if (!validate) throw new Error(`no schema docs/schemas/${document}.schema.json`);
  if (validate(value)) return [];
  return (validate.errors ?? []).map(
    (error) => `${error.instancePath || '/'}: ${error.message} ${JSON.stringify(error.params)}`,
  );
}

/** Asserts that a document printed by the CLI (one JSON line) matches its published schema; returns it parsed. */
// biome-ignore lint/suspicious/noExplicitAny: a document is read field by field by the test.
export function expectDocument(document: string, stdout: string): any {
  const lines = stdout.trimEnd().split('\n');
  expect(lines, 'one JSON line').toHaveLength(1);
  const value = JSON.parse(lines[0]!);
  expect(schemaProblems(document, value), `${document}: ${lines[0]!.slice(0, 2000)}`).toEqual([]);
  return value;
}
