import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { type S3TestServer, startS3Server } from '@matric-backup/test-servers';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { CallToolResult, Progress } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI_BIN, tempDir } from './helpers/cli.js';
import { writeConfig } from './helpers/config.js';
import { diffTrees, generateTree } from './helpers/tree.js';

// `matric-backup mcp` as an assistant's client starts it: the built CLI spawned
// over stdio, spoken to with the official SDK's Client. One s3rver and one local
// folder; one server process per access level, reused by every test.

const READ_TOOLS = [
  'backup_history',
  'backup_info',
  'backup_status',
  'list_backups',
  'list_files',
  'verify_backup',
];
/** A credential that must never reach a client: in a webhook URL, which the config marks as a secret. */
const WEBHOOK_TOKEN = 'mcpE2eWebhookToken7Qx9';
const ID = /^backup_\d{8}_\d{6}_[a-z]{8}(_\d+)?$/;

// biome-ignore lint/suspicious/noExplicitAny: results are JSON documents the assertions walk freely.
type Structured = Record<string, any>;

describe('mcp server over stdio', () => {
  let server: S3TestServer;
  let work: Awaited<ReturnType<typeof tempDir>>;
  let source: string;
  let config: string;
  let restoreRoot: string;
  const clients: Record<string, Client> = {};
  const stderr: Record<string, string> = {};
  /** Every text and structured result a client received, for the secrets check. */
  const received: string[] = [];

  async function connect(access: 'read' | 'operate' | 'full', extra: string[] = []): Promise<Client> {
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [CLI_BIN, 'mcp', '-c', config, '--access', access, ...extra],
      env: { ...(process.env as Record<string, string>), NO_COLOR: '1' },
      stderr: 'pipe',
    });
    stderr[access] = '';
    transport.stderr?.on('data', (chunk: Buffer) => {
      stderr[access] += chunk.toString();
    });
    const client = new Client({ name: 'e2e', version: '1.0.0' });
    await client.connect(transport);
    return client;
  }

  async function call(
    access: string,
    name: string,
    args: Record<string, unknown> = {},
    onprogress?: (progress: Progress) => void,
  ): Promise<CallToolResult & { structuredContent: Structured }> {
    const result = (await clients[access]!.callTool(
      { name, arguments: args },
      undefined,
      onprogress ? { onprogress, timeout: 120_000 } : { timeout: 120_000 },
    )) as CallToolResult & { structuredContent: Structured };
    received.push(JSON.stringify(result));
    // One naming convention: every field of a tool's document in snake_case (this config's names are too).
    expect(JSON.stringify(result.structuredContent ?? {}), name).not.toMatch(/"[a-z][a-z0-9]*[A-Z]\w*":/);
    return result;
  }

  beforeAll(async () => {
    server = await startS3Server();
    work = await tempDir('mb-e2e-mcp-');
    source = join(work.path, 'source');
    restoreRoot = join(work.path, 'restores');
    await mkdir(restoreRoot);
    await generateTree(source, { bigFileBytes: 256 * 1024, smallFiles: 20 });
    config = await writeConfig(work.path, {
      name: 'mcp-e2e',
      sources: [{ name: 'data', type: 'directory', path: source }],
      retention: { keep_last: 10, min_backups: 2 },
      retry: { max_retries: 0 },
      api: { restore_roots: [restoreRoot] },
      notifications: { webhook_url: `http://127.0.0.1:9/hooks/${WEBHOOK_TOKEN}`, on_failure: false },
      destinations: [
        { name: 'disk', type: 'local', path: join(work.path, 'disk') },
        {
          name: 'offsite',
          type: 's3',
          endpoint: server.endpoint,
          bucket: server.bucket,
          access_key_id: server.accessKeyId,
          // Inline, so the secret sits in the config the `config` resource shows.
          secret_access_key: server.secretAccessKey,
        },
        // Disabled: only what names it (copy_backup, delete_backup's destinations) touches it.
        {
          name: 'spare',
          type: 'local',
          enabled: false,
          path: join(work.path, 'spare'),
          retention: { keep_last: 10, min_backups: 0 },
        },
      ],
    });
    // The operate client also asks for JSON logs: they must go to stderr, never into the protocol's stdout.
    clients.read = await connect('read');
    clients.operate = await connect('operate', ['--log-format', 'json']);
    clients.full = await connect('full');
  });
  afterAll(async () => {
    for (const client of Object.values(clients)) await client.close().catch(() => undefined);
    await server?.dispose();
    await work?.cleanup();
  });

  it('lists the tools each access level allows, each with a described input schema', async () => {
    const names = async (access: string) =>
      (await clients[access]!.listTools()).tools.map((tool) => tool.name).sort();
    expect(await names('read')).toEqual(READ_TOOLS);
    expect(await names('operate')).toEqual(
      [...READ_TOOLS, 'backup_now', 'copy_backup', 'restore_backup'].sort(),
    );
    expect(await names('full')).toEqual(
      [...READ_TOOLS, 'backup_now', 'copy_backup', 'delete_backup', 'restore_backup'].sort(),
    );

    const { tools } = await clients.full!.listTools();
    for (const tool of tools) {
      expect(tool.description?.length, tool.name).toBeGreaterThan(80);
      expect(tool.inputSchema.type).toBe('object');
      for (const [key, schema] of Object.entries(tool.inputSchema.properties ?? {}))
        expect((schema as { description?: string }).description, `${tool.name}.${key}`).toBeTruthy();
      expect(tool.annotations?.readOnlyHint, tool.name).toBe(READ_TOOLS.includes(tool.name));
    }
    const restore = tools.find((tool) => tool.name === 'restore_backup')!;
    expect(restore.inputSchema.required).toEqual(['to']);
    expect((restore.inputSchema.properties as Structured).dry_run.default).toBe(true);
  });

  describe('after a backup_now', () => {
    let shard: string;
    const progress: Progress[] = [];

    beforeAll(async () => {
      const run = await call('operate', 'backup_now', {}, (update) => progress.push(update));
      expect(run.isError, JSON.stringify(run)).toBeFalsy();
      shard = run.structuredContent.id;
    });

    it('stored one shard on both destinations, with progress notifications that only grow', async () => {
      expect(shard).toMatch(ID);
      expect(existsSync(join(work.path, 'disk', `${shard}.manifest.json`))).toBe(true);
      expect(server.storedKeys()).toContain(`${shard}.manifest.json`);
      expect(progress.length).toBeGreaterThan(2);
      const values = progress.map((update) => update.progress);
      expect(values).toEqual([...values].sort((a, b) => a - b));
      expect(new Set(values).size).toBe(values.length);
      expect(progress.some((update) => /uploading to offsite/.test(update.message ?? ''))).toBe(true);
      // Its JSON log records went to stderr (stdout carried the protocol above); plugins' own lines sit beside them.
      const records = stderr
        .operate!.split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as Structured);
      expect(records).toContainEqual(
        expect.objectContaining({
          service: 'matric-backup',
          message: expect.stringMatching(/mcp: serving .* access operate/),
        }),
      );
    });

    it('answers every read-only tool from the local folder and s3', async () => {
      const status = await call('read', 'backup_status', { max_age: '1h' });
      expect(status.structuredContent.ok).toBe(true);
      expect(
        status.structuredContent.destinations.map((d: Structured) => [
          d.name,
          d.health,
          d.newest.id,
          d.shards,
        ]),
      ).toEqual([
        ['disk', 'ok', shard, 1],
        ['offsite', 'ok', shard, 1],
      ]);
      expect(status.structuredContent.destinations[1].last_run).toMatchObject({
        id: shard,
        status: 'success',
      });
      expect(status.content[0]).toMatchObject({ type: 'text', text: expect.stringContaining(shard) });

      const list = await call('read', 'list_backups', { destination: 'offsite' });
      expect(list.structuredContent.destinations).toHaveLength(1);
      expect(list.structuredContent.destinations[0].shards).toEqual([
        expect.objectContaining({ id: shard, type: 'full', sources: ['data'], owner: 'own' }),
      ]);
      const incrementals = await call('read', 'list_backups', { type: 'incremental' });
      expect(incrementals.structuredContent.destinations.map((d: Structured) => d.total)).toEqual([0, 0]);

      const info = await call('read', 'backup_info', { id: 'latest' });
      expect(info.structuredContent.manifest).toMatchObject({ id: shard, type: 'full' });
      expect(info.structuredContent.locations.map((l: Structured) => l.destination)).toEqual([
        'disk',
        'offsite',
      ]);

      const verifying: Progress[] = [];
      const verify = await call('read', 'verify_backup', { id: shard }, (update) => verifying.push(update));
      expect(verify.structuredContent.ok).toBe(true);
      // The SDK's client drops progress that arrives in the same read as the response (it forgets the
      // token first), so which destination's update comes last is not fixed: each must be well formed.
      expect(verifying.length).toBeGreaterThan(0);
      for (const update of verifying) {
        expect(update.message).toMatch(/^verifying \S+ on (disk|offsite): \d+ of \d+ bytes$/);
      }
      expect(
        verify.structuredContent.results.map((r: Structured) => [r.destination, r.ok, r.files_checked > 20]),
      ).toEqual([
        ['disk', true, true],
        ['offsite', true, true],
      ]);

      const files = await call('read', 'list_files', { pattern: 'data/modes/*', destination: 'offsite' });
      expect(files.structuredContent.destination).toBe('offsite');
      expect(files.structuredContent.entries.map((e: Structured) => [e.path, e.type, e.mode])).toEqual(
        expect.arrayContaining([
          ['data/modes/run.sh', 'file', '0755'],
          ['data/modes/secret.txt', 'file', '0600'],
          ['data/modes/private', 'directory', '0700'],
        ]),
      );
      expect(files.structuredContent.entries.every((e: Structured) => e.path.startsWith('data/modes/'))).toBe(
        true,
      );

      // verify_backup above is in the history too, with the shards it checked.
      const history = await call('read', 'backup_history', { limit: 5 });
      expect(
        history.structuredContent.runs.map((r: Structured) => [r.kind, r.id, r.status, r.exit_code]),
      ).toEqual([
        ['verify', undefined, 'success', 0],
        ['backup', shard, 'success', 0],
      ]);
      expect(history.structuredContent.runs[0].destinations).toEqual(
        expect.arrayContaining([expect.objectContaining({ status: 'success', verified: [shard] })]),
      );

      const missing = await call('read', 'backup_info', { id: 'backup_20200101_000000_nonenone' });
      expect(missing.isError).toBe(true);
      expect(missing.structuredContent.error).toMatchObject({
        code: 'SHARD_NOT_FOUND',
        hint: expect.stringContaining('list_backups'),
      });
    });

    it('restores only where allowed: not at read, a dry run by default, never outside the restore roots', async () => {
      const target = join(restoreRoot, 'one');
      // A read-only server does not offer the tool at all.
      const atRead = await call('read', 'restore_backup', { to: target });
      expect(atRead.isError).toBe(true);
      expect(atRead.content[0]).toMatchObject({ text: expect.stringMatching(/restore_backup not found/) });

      const dry = await call('operate', 'restore_backup', { to: target });
      expect(dry.isError, JSON.stringify(dry)).toBeFalsy();
      expect(dry.structuredContent).toMatchObject({ id: shard, dry_run: true });
      expect(dry.structuredContent.files).toBeGreaterThan(20);
      expect(existsSync(target)).toBe(false);

      const outside = await call('operate', 'restore_backup', { to: join(work.path, 'elsewhere') });
      expect(outside.structuredContent.error).toMatchObject({ code: 'RESTORE_REFUSED' });
      // A link inside a root that leads out of it does not make its target allowed.
      await symlink(work.path, join(restoreRoot, 'escape'));
      const through = await call('operate', 'restore_backup', { to: join(restoreRoot, 'escape', 'x') });
      expect(through.structuredContent.error).toMatchObject({ code: 'RESTORE_REFUSED' });
      expect(existsSync(join(work.path, 'elsewhere')) || existsSync(join(work.path, 'x'))).toBe(false);

      const restoring: Progress[] = [];
      const real = await call('operate', 'restore_backup', { to: target, dry_run: false }, (update) =>
        restoring.push(update),
      );
      expect(restoring.at(-1)).toMatchObject({
        total: expect.any(Number),
        message: expect.stringMatching(/files extracted/),
      });
      expect(real.structuredContent).toMatchObject({ id: shard, dry_run: false });
      expect(await diffTrees(source, join(target, 'data'))).toEqual([]);
    });

    it('never deletes below min_backups, and deletes only when dry_run is false', async () => {
      const refused = await call('full', 'delete_backup', { id: shard, dry_run: false });
      expect(refused.isError).toBe(true);
      expect(refused.structuredContent.error.message).toMatch(/below its min_backups of 2/);
      expect(existsSync(join(work.path, 'disk', `${shard}.manifest.json`))).toBe(true);

      // Two more shards, the second an incremental on the first: deleting the oldest leaves two, the minimum.
      const full = await call('operate', 'backup_now', { type: 'full' });
      expect(full.structuredContent).toMatchObject({ status: 'success', type: 'full' });
      const incremental = await call('operate', 'backup_now', { type: 'incremental' });
      expect(incremental.structuredContent).toMatchObject({ status: 'success', type: 'incremental' });
      const increment = incremental.structuredContent.id;
      const incrementals = await call('read', 'list_backups', { type: 'incremental' });
      expect(incrementals.structuredContent.destinations.map((d: Structured) => d.shards)).toEqual([
        [expect.objectContaining({ id: increment, parent: full.structuredContent.id, chain_length: 1 })],
        [expect.objectContaining({ id: increment, parent: full.structuredContent.id, chain_length: 1 })],
      ]);
      const chain = await call('read', 'backup_info', { id: increment });
      expect(chain.structuredContent.chain).toEqual([full.structuredContent.id, increment]);

      const dry = await call('full', 'delete_backup', { id: shard });
      expect(dry.structuredContent).toMatchObject({ dry_run: true });
      expect(existsSync(join(work.path, 'disk', `${shard}.manifest.json`))).toBe(true);

      const deleted = await call('full', 'delete_backup', { id: shard, dry_run: false });
      expect(deleted.isError, JSON.stringify(deleted)).toBeFalsy();
      expect(
        deleted.structuredContent.destinations.map((d: Structured) => [d.destination, d.status]),
      ).toEqual([
        ['disk', 'deleted'],
        ['offsite', 'deleted'],
      ]);
      expect(existsSync(join(work.path, 'disk', `${shard}.manifest.json`))).toBe(false);
      expect(server.storedKeys().some((key) => key.startsWith(`${shard}.`))).toBe(false);
      base = full.structuredContent.id;
      top = increment;
    });

    let base: string;
    let top: string;

    it('copies an incremental with its chain to another destination, then deletes the base there only with its dependents', async () => {
      const spare = join(work.path, 'spare');
      const dry = await call('operate', 'copy_backup', {
        ids: [top],
        from: 'disk',
        to: 'spare',
        dry_run: true,
      });
      expect(dry.isError, JSON.stringify(dry)).toBeFalsy();
      expect(dry.structuredContent.shards.map((row: Structured) => [row.id, row.status])).toEqual([
        [base, 'would_copy'],
        [top, 'would_copy'],
      ]);
      expect(existsSync(spare)).toBe(false);

      const copyProgress: Progress[] = [];
      const copied = await call(
        'operate',
        'copy_backup',
        { ids: [top], from: 'disk', to: 'spare' },
        (update) => copyProgress.push(update),
      );
      expect(copied.isError, JSON.stringify(copied)).toBeFalsy();
      expect(copied.structuredContent).toMatchObject({ from: 'disk', to: 'spare', ok: true, dry_run: false });
      expect(
        copied.structuredContent.shards.map((row: Structured) => [row.id, row.status, row.link_of]),
      ).toEqual([
        [base, 'copied', top],
        [top, 'copied', undefined],
      ]);
      expect(copyProgress.length).toBeGreaterThan(0);
      for (const id of [base, top]) {
        const [copy, original] = await Promise.all([
          readFile(join(spare, `${id}.tar.zst`)),
          readFile(join(work.path, 'disk', `${id}.tar.zst`)),
        ]);
        expect(copy.equals(original), id).toBe(true);
        expect(existsSync(join(spare, `${id}.manifest.json`))).toBe(true);
      }

      const refused = await call('full', 'delete_backup', {
        id: base,
        destinations: ['spare'],
        dry_run: false,
      });
      expect(refused.isError).toBe(true);
      expect(refused.structuredContent.error).toMatchObject({ code: 'HAS_DEPENDENTS' });
      expect(refused.structuredContent.error.message).toContain(top);
      expect(refused.structuredContent.error.hint).toContain('with_dependents');
      expect(existsSync(join(spare, `${base}.manifest.json`))).toBe(true);

      const both = await call('full', 'delete_backup', {
        id: base,
        destinations: ['spare'],
        dry_run: false,
        with_dependents: true,
      });
      expect(both.isError, JSON.stringify(both)).toBeFalsy();
      expect(both.structuredContent.destinations).toEqual([
        expect.objectContaining({ destination: 'spare', status: 'deleted', dependents: [top] }),
      ]);
      expect(await readdir(spare)).toEqual([]);
      // The enabled destinations keep theirs.
      expect(existsSync(join(work.path, 'disk', `${base}.manifest.json`))).toBe(true);

      const audit = (await readFile(join(work.path, 'state', 'audit.log'), 'utf8'))
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line));
      expect(audit).toContainEqual(
        expect.objectContaining({
          action: 'copy',
          caller: 'mcp',
          destinations: ['disk', 'spare'],
          details: expect.objectContaining({ copied: [base, top] }),
        }),
      );
    });

    it('never shows a secret in a tool result, a resource or the prompt', async () => {
      const resources = (await clients.full!.listResources()).resources.map((resource) => resource.uri);
      expect(resources.sort()).toEqual([
        'matric-backup://config',
        'matric-backup://shards',
        'matric-backup://status',
      ]);
      for (const uri of resources) received.push(JSON.stringify(await clients.full!.readResource({ uri })));
      const configText = JSON.stringify(await clients.full!.readResource({ uri: 'matric-backup://config' }));
      expect(configText).toContain('secret_access_key\\": \\"***');
      received.push(JSON.stringify(await clients.operate!.getPrompt({ name: 'disaster_recovery_check' })));

      expect(received.length).toBeGreaterThan(15);
      for (const text of [...received, ...Object.values(stderr)]) {
        expect(text).not.toContain(server.secretAccessKey);
        expect(text).not.toContain(WEBHOOK_TOKEN);
      }
    });
  });
});
