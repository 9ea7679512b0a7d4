// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${VAR} is backup.yaml syntax in these strings, not a template.
import { describe, expect, it } from 'vitest';
import { loaderIn, tempDirs } from './fixtures/config/temp.js';

const { load, fail } = loaderIn(tempDirs());

const s3 = (bucket: string, extra = '') => `backup:
  destinations:
    - name: offsite
      type: s3
      bucket: ${bucket}
${extra}`;

describe('loadConfig: ${VAR} expansion', () => {
  it('expands ${VAR} inside strings', async () => {
    const config = await load(s3('"pre-${BUCKET}-post"', '      prefix: ${HOST}/${BUCKET}/\n'), {
      env: { BUCKET: 'b1', HOST: 'h' },
    });
    expect(config.destinations[0]!.config).toMatchObject({ bucket: 'pre-b1-post', prefix: 'h/b1/' });
  });

  it('uses the default of ${VAR:-default} when VAR is unset or empty', async () => {
    const unset = await load(s3('${BUCKET:-fallback}'), { env: {} });
    expect(unset.destinations[0]!.config).toMatchObject({ bucket: 'fallback' });
    const empty = await load(s3('${BUCKET:-fallback}'), { env: { BUCKET: '' } });
    expect(empty.destinations[0]!.config).toMatchObject({ bucket: 'fallback' });
    const set = await load(s3('${BUCKET:-fallback}'), { env: { BUCKET: 'real' } });
    expect(set.destinations[0]!.config).toMatchObject({ bucket: 'real' });
    const defaultWithSpaces = await load(s3('"${BUCKET:-my bucket}"'), { env: {} });
    expect(defaultWithSpaces.destinations[0]!.config).toMatchObject({ bucket: 'my bucket' });
  });

  it('keeps $${VAR} as a literal ${VAR} and leaves other dollars alone', async () => {
    const config = await load(s3('"$${BUCKET}"', '      prefix: cost$5/$HOME/\n'), {
      env: { BUCKET: 'x', HOME: '/h' },
    });
    expect(config.destinations[0]!.config).toMatchObject({ bucket: '${BUCKET}', prefix: 'cost$5/$HOME/' });
  });

  it('gives an unquoted value the type it would have had in the file; a quoted one stays a string', async () => {
    const yaml = `backup:
  compression:
    level: \${LEVEL}
  destinations:
    - name: a
      type: local
      path: /a
      enabled: \${ENABLED}
      required: \${REQUIRED}
`;
    const typed = await load(yaml, { env: { LEVEL: '9', ENABLED: 'false', REQUIRED: 'false' } });
    expect(typed.backup.compression.level).toBe(9);
    expect(typed.destinations[0]!.enabled).toBe(false);
    expect(typed.destinations[0]!.required).toBe(false);

    const error = await fail(yaml.replace('required: ${REQUIRED}', 'required: "${REQUIRED}"'), {
      env: { LEVEL: '9', ENABLED: 'false', REQUIRED: 'false' },
    });
    expect(error.issues).toEqual([
      {
        path: 'backup.destinations[a].required',
        line: 9,
        column: 7,
        message: 'expected true or false, found a string (the value came from ${REQUIRED})',
      },
    ]);
  });

  it('says to quote a value that became a number where a string was expected', async () => {
    const error = await fail(s3('${BUCKET}'), { env: { BUCKET: '2024' } });
    expect(error.issues[0]!.message).toBe(
      'expected a string, found an integer (the value came from ${BUCKET}; quote it to keep it a string)',
    );
  });

  it('rejects a malformed or unterminated reference at its key', async () => {
    const malformed = await fail(s3('"${1BUCKET}"'));
    expect(malformed.issues[0]).toMatchObject({ path: 'backup.destinations[offsite].bucket', line: 5 });
    expect(malformed.issues[0]!.message).toMatch(/invalid variable reference/);
    const open = await fail(s3('"${BUCKET"'));
    expect(open.issues[0]!.message).toMatch(/unterminated/);
  });

  it('reports every unset variable, each at its own key', async () => {
    const error = await fail(s3('${BUCKET}', '      region: ${REGION}\n'), { env: {} });
    expect(error.issues.map((issue) => [issue.path, issue.line])).toEqual([
      ['backup.destinations[offsite].bucket', 5],
      ['backup.destinations[offsite].region', 6],
    ]);
    expect(error.issues[1]!.message).toMatch(/^environment variable REGION is not set/);
  });

  it('expands values reached through YAML anchors once', async () => {
    const config = await load(
      `backup:
  destinations:
    - {name: a, type: s3, bucket: &bucket "$\${LITERAL}-\${B}"}
    - {name: b, type: s3, bucket: *bucket}
`,
      { env: { B: 'x', LITERAL: 'no' } },
    );
    expect(config.destinations.map((d) => (d.config as { bucket: string }).bucket)).toEqual([
      '${LITERAL}-x',
      '${LITERAL}-x',
    ]);
  });
});
