import { randomBytes } from 'node:crypto';
import type { Destination } from '@matric-backup/plugin-api';
import { isDestinationError, isMatricError, MatricError } from '@matric-backup/plugin-api';
import type { PackOptions, PackStats } from '../archive/pack.js';
import { type StoredFormat, storedFormat } from '../archive/transforms.js';
import { type ArchiveResult, writeArchive } from '../archive/write.js';
import type { LoadedConfig, ResolvedDestination } from '../config/types.js';
import { openDestination } from '../destination/open.js';
import { retryPolicy } from '../destination/retry.js';
import type { HookRunState, HookWhen } from '../hooks/env.js';
import { runHooks } from '../hooks/run-hooks.js';
import { ChangeDetector } from '../incremental/changes.js';
import { planShard, type ShardPlan } from '../incremental/decide.js';
import { FileListWriter } from '../incremental/file-list.js';
import { notifyStart } from '../notify/notify.js';
import { preflight } from '../preflight/preflight.js';
import type { ShardWriter } from '../shard/manifest.js';
import { shardId, shardKeys, writerTag } from '../shard/naming.js';
import { SourceProblems } from '../sources/problems.js';
import { readSources, sourceOrigins } from '../sources/read.js';
import type { SourceEntry } from '../sources/types.js';
import { clearInFlight, markInFlight } from '../state/in-flight.js';
import {
  interruptingSignal,
  interruptSignal,
  onInterruptReport,
  stopCleanlyOnInterrupt,
} from '../util/interrupt.js';
import { redact } from '../util/redact.js';
import { type Warning, warning } from '../util/warning.js';
import { finishRun } from './after-run.js';
import { planSources } from './dry-run.js';
import { RunHooks, runState } from './hooks.js';
import { acquireRunLock, type RunLock } from './lock.js';
import { buildShardManifest } from './manifest.js';
import { applyRetention } from './retain.js';
import { RunLog } from './run-log.js';
import { createRunSpool, type RunSpool } from './run-spool.js';
import { selectDestinations } from './select.js';
import { pickShardId } from './shard-id.js';
import { type SpoolFileChoice, spoolFileFor, spoolKeepers } from './spool-kept.js';
import { throttle } from './throttle.js';
import type { DestinationResult, RunEvent, RunOptions, RunSummary } from './types.js';
import { reportUnfinished } from './unfinished.js';
import { type UploadJob, uploadShard } from './upload.js';

/** What every destination receives: the spool file, its keys and checksum, and the sidecar text. */
type SpooledShard = Pick<UploadJob, 'keys' | 'index' | 'size' | 'sha256' | 'sidecar'> & {
  /** The spool file a destination reads or keeps (see spoolKeepers). */
  fileFor: (destination: string) => SpoolFileChoice;
};

type SpooledArchive = ArchiveResult & Pick<SpooledShard, 'fileFor'>;

interface Opened {
  resolved: ResolvedDestination;
  /** Its hooks are configured: its `after` hooks run once the run is done with it. */
  hooksRan?: boolean;
  destination?: Destination;
  failure?: DestinationResult;
}

/**
 * One backup run: sources -> tar -> compress (-> encrypt) ->
 * spool file -> every selected destination in parallel, sidecar last. Returns
 * the summary for every outcome of the run itself (source failure, partial,
 * ...); throws only when the run cannot start: USAGE for unknown destinations
 * or no sources, LOCKED when another run of this config holds the lock.
 */
export async function runBackup(config: LoadedConfig, given: RunOptions = {}): Promise<RunSummary> {
  // The run's log (warnings, hook output): the body of healthchecks pings.
  const log = new RunLog();
  const options: RunOptions = {
    ...given,
    onEvent: (event) => {
      log.add(event);
      given.onEvent?.(event);
    },
  };
  const run = new Run(config, options);
  const destinations = selectDestinations(config, options.destinations);
  if (config.backup.sources.length === 0) {
    throw new MatricError('USAGE', `${config.file} has no backup.sources: nothing to back up`, {
      hint: 'add a directory or command source under backup.sources',
    });
  }
  // Before any source is read: a dry run checks everything a run would trip over, a run its encryption.
  await preflight(config, { scope: options.dryRun ? 'full' : 'encryption' });
  const format = await storedFormat(config.backup);
  if (options.dryRun) return run.dryRun(destinations, format);
  const startedAt = new Date();
  const unfinished = (
    event: 'backup.locked' | 'backup.interrupted',
    error: { code: string; message: string },
  ) =>
    reportUnfinished(config, {
      id: run.plannedId(),
      startedAt,
      event,
      error,
      destinations: destinations.map((entry) => ({
        name: entry.name,
        type: entry.type,
        required: entry.required,
        status: 'skipped' as const,
      })),
      log: log.lines,
    });
  let lock: RunLock;
  try {
    lock = await acquireRunLock(config.backup.state_dir, config.file);
  } catch (error) {
    if (isMatricError(error) && error.code === 'LOCKED') {
      for (const message of await unfinished('backup.locked', { code: error.code, message: error.message }))
        options.onEvent?.({
          type: 'warning',
          warning: warning('NOTIFICATION_FAILED', redact(message, config.secrets)),
        });
    }
    throw error;
  }
  // Whoever comes first reports the run: its own end, or the signal handler (see onInterruptReport).
  let reported = false;
  const forgetReport = onInterruptReport(async () => {
    if (reported) return;
    reported = true;
    const signal = interruptingSignal() ?? 'an interrupt';
    const message = `the run was interrupted by ${signal}`;
    await unfinished('backup.interrupted', { code: 'ABORTED', message });
    // on_error and finally still run (start the service a before hook stopped), within the signal's grace;
    // the exit code is the front end's signal convention, which core does not know: left empty.
    const interrupted = run.notStarted(destinations, new MatricError('ABORTED', message));
    await new RunHooks(config, { ...options, exitCodeOf: undefined }).after(interrupted);
  });
  try {
    for (const result of await notifyStart(config.backup.notifications, startText(config), {
      secrets: config.secrets,
    }))
      if (!result.ok)
        options.onEvent?.({
          type: 'warning',
          warning: warning(
            'NOTIFICATION_FAILED',
            `notification by ${result.channel} failed: ${result.error}`,
            {
              channel: result.channel,
            },
          ),
        });
    const hooks = new RunHooks(config, options);
    let made: RunSummary;
    try {
      await hooks.before();
      made = await run.execute(destinations, format);
    } catch (error) {
      if (!isMatricError(error) || error.code !== 'HOOK_FAILED') throw error;
      made = run.notStarted(destinations, error);
    }
    // Hooks run before the record and the notifications, so both say how the hooks went.
    const after = await hooks.after(made);
    if (reported) return after;
    reported = true;
    const summary = await finishRun(config, after, { ...options, log: log.lines });
    await clearInFlight(config.backup.state_dir, summary.id).catch(() => undefined);
    return summary;
  } finally {
    forgetReport();
    await lock.release();
  }
}

function startText(config: LoadedConfig): string {
  return `matric-backup on ${config.backup.source_instance} started ${config.backup.name} (${config.file})`;
}

class Run {
  private readonly started = performance.now();
  private readonly now: Date;
  private readonly warnings: Warning[] = [];
  /** The shard id, once picked: destination hooks get it. */
  private id: string | undefined;
  /** Each destination's outcome, for its `after` hooks. */
  private readonly results = new Map<string, DestinationResult>();
  /** Destination `after` hooks that failed: a stored shard is then "completed with warnings". */
  private hookFailures = 0;
  /** Paths not archived whole; they make a stored shard "completed with warnings". */
  private readonly problems: SourceProblems;
  /** Recorded in the sidecar: which config wrote it, and this run's random id to recognise it by. */
  private readonly writer: ShardWriter;
  /** Full or incremental, decided once the destinations are open. */
  private plan: ShardPlan = { type: 'full', recordList: false };

  constructor(
    private readonly config: LoadedConfig,
    private readonly options: RunOptions,
  ) {
    this.now = options.now ?? new Date();
    this.problems = new SourceProblems(config.backup.sources, this.warn);
    const { name, source_instance: sourceInstance } = config.backup;
    this.writer = { name, tag: writerTag(name, sourceInstance), run: randomBytes(12).toString('hex') };
  }

  async dryRun(destinations: ResolvedDestination[], format: StoredFormat): Promise<RunSummary> {
    const id = shardId(this.config.backup.id_prefix, this.now, this.writer.tag);
    const skipped = destinations.map((destination) => this.skipped(destination));
    try {
      const { sources, spool_dir: spoolDir, state_dir: stateDir } = this.config.backup;
      // Destinations are not opened in a dry run: only a real run knows their local folders.
      const leaveOut = [
        { path: spoolDir, what: 'the spool folder' },
        { path: stateDir, what: 'the state folder' },
      ];
      const plan = await planSources(sources, leaveOut, this.warn);
      return this.summary(id, skipped, {
        plan: {
          key: shardKeys(id, format.compression, format.encryption?.method ?? null).archive,
          ...plan,
          destinations: destinations.map((destination) => destination.name),
        },
      });
    } catch (error) {
      return this.summary(id, skipped, { error: this.runError(error) });
    }
  }

  /** The id the shard gets unless a destination already has it (then `_2` ...). */
  plannedId(): string {
    return this.id ?? shardId(this.config.backup.id_prefix, this.now, this.writer.tag);
  }

  /** The summary of a run a `before` hook stopped: nothing archived, nothing uploaded. */
  notStarted(selected: ResolvedDestination[], error: unknown): RunSummary {
    const id = shardId(this.config.backup.id_prefix, this.now, this.writer.tag);
    const skipped = selected.map((destination) => this.skipped(destination));
    return this.summary(id, skipped, { error: this.runError(error) });
  }

  async execute(selected: ResolvedDestination[], format: StoredFormat): Promise<RunSummary> {
    const summary = await this.store(selected, format);
    return this.hookFailures > 0 && summary.status === 'success'
      ? { ...summary, status: 'warning' }
      : summary;
  }

  private async store(selected: ResolvedDestination[], format: StoredFormat): Promise<RunSummary> {
    const { backup } = this.config;
    const opened = await Promise.all(selected.map((resolved) => this.open(resolved)));
    const usable = opened.filter((entry) => entry.destination);
    let spool: RunSpool | undefined;
    let list: FileListWriter | undefined;
    try {
      if (usable.length === 0) {
        const results = await this.fanOut(opened, undefined);
        // Nothing is stored anywhere, so no destination needs asking which id is free.
        return this.summary(shardId(backup.id_prefix, this.now, this.writer.tag), results, {
          error: failureOf('no destination could be opened, nothing was archived', results),
        });
      }
      this.plan = await planShard({
        config: this.config,
        requested: this.options.type,
        destinations: usable.map((entry) => ({ name: entry.resolved.name, destination: entry.destination! })),
        origins: sourceOrigins(backup.sources),
        now: this.now,
      });
      const encryption = format.encryption?.method ?? null;
      const id = await pickShardId(
        backup.id_prefix,
        this.writer.tag,
        this.now,
        { compression: format.compression, encryption },
        usable.map((entry) => entry.destination!),
      );
      const keys = shardKeys(id, format.compression, encryption);
      this.id = id;
      if (this.plan.recordList) list = await this.openFileList(id);
      const detector = this.plan.recordList
        ? new ChangeDetector({
            parent: this.plan.type === 'incremental' ? this.plan.list.records : undefined,
            compare: backup.incremental?.compare ?? 'metadata',
            commandSources: new Set(
              backup.sources.filter((source) => source.type === 'command').map((source) => source.name),
            ),
            onRecord: list ? (record) => list!.add(record) : () => undefined,
            warnings: this.problems.list,
          })
        : undefined;

      let archive: SpooledArchive;
      try {
        spool = await createRunSpool(backup.spool_dir);
        archive = await this.archive(id, keys, format, spool.dir, usable, detector);
      } catch (error) {
        return this.summary(
          id,
          opened.map((entry) => entry.failure ?? this.skipped(entry.resolved)),
          { error: this.runError(error) },
        );
      }
      const manifest = buildShardManifest({
        id,
        createdAt: this.now,
        sourceInstance: backup.source_instance,
        writer: this.writer,
        sources: backup.sources.map((source) => source.name),
        origins: sourceOrigins(backup.sources),
        format,
        objectKey: keys.archive,
        indexKey: keys.index,
        archive,
        warnings: this.problems.list,
        ...(this.plan.type === 'incremental' && {
          incremental: {
            parent: this.plan.parent.id,
            base: this.plan.base,
            chain_length: this.plan.chainLength,
            changes: detector!.changes,
          },
        }),
      });
      // Until the run record is written, this marker is the only trace of the upload if the process is killed.
      await markInFlight(backup.state_dir, {
        id,
        writer: this.writer.name,
        config: this.config.file,
        started_at: this.now.toISOString(),
      }).catch((error: unknown) => {
        this.warn(
          warning(
            'STATE_WRITE_FAILED',
            `could not note the upload in ${backup.state_dir}: ${(error as Error).message}`,
          ),
        );
      });
      const results = await this.fanOut(opened, {
        fileFor: archive.fileFor,
        keys,
        index: archive.index!,
        size: archive.size,
        sha256: archive.sha256,
        sidecar: Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`),
      });
      if (list && results.some((result) => result.status === 'success')) await this.recordFileList(list);
      // An interrupted run deletes nothing: it only stops what it began.
      if (this.options.prune !== false && !interruptSignal.aborted)
        await applyRetention(this.config, opened, results, id, this.warn);
      return this.summary(id, results, {
        archive: {
          key: keys.archive,
          size: archive.size,
          sha256: archive.sha256,
          files: archive.files,
          bytesIn: archive.bytesIn,
        },
        manifest,
      });
    } finally {
      await Promise.all(opened.map((entry) => entry.destination?.close().catch(() => undefined)));
      spool?.remove();
      // A list not committed is never left where a later run would read it.
      list?.discard();
      await this.destinationsAfter(opened);
    }
  }

  /** Each destination's `after` hooks, once it is closed (a hook may unmount its disk), with how it went. */
  private async destinationsAfter(opened: Opened[]): Promise<void> {
    await Promise.all(
      opened.map(async ({ resolved, hooksRan }) => {
        const after = resolved.hooks?.after ?? [];
        if (!hooksRan || after.length === 0) return;
        const result = this.results.get(resolved.name);
        const status = result?.status === 'success' ? 'success' : 'failed';
        const failures = await runHooks(
          after,
          this.hookState('after', {
            name: resolved.name,
            status,
            ...(result?.error && { error: result.error }),
          }),
          {
            secrets: this.config.secrets,
            onLine: (hook, line) => this.emit({ type: 'hook-output', hook, line }),
          },
        );
        for (const failure of failures) this.warn(failure);
        this.hookFailures += failures.length;
      }),
    );
  }

  private hookState(when: HookWhen, destination: NonNullable<HookRunState['destination']>): HookRunState {
    return {
      ...runState(this.config, when, undefined, undefined),
      ...(this.id && { runId: this.id }),
      destination,
    };
  }

  /**
   * Starts the file list at this shard's time, for the next incremental,
   * written as the run goes; without it the next run is full.
   */
  private async openFileList(id: string): Promise<FileListWriter | undefined> {
    const { backup } = this.config;
    try {
      return await FileListWriter.open(backup.state_dir, this.config.file, {
        version: 1,
        shard: id,
        writer: this.writer.name,
        tag: this.writer.tag,
        created_at: this.now.toISOString(),
        origins: sourceOrigins(backup.sources),
      });
    } catch (error) {
      this.fileListFailed(error);
      return undefined;
    }
  }

  /** Puts the list in place once the shard is stored somewhere. */
  private async recordFileList(list: FileListWriter): Promise<void> {
    await list.commit().catch((error: unknown) => this.fileListFailed(error));
  }

  private fileListFailed(error: unknown): void {
    this.warn(
      warning(
        'STATE_WRITE_FAILED',
        `could not record the file list in ${this.config.backup.state_dir}: ${(error as Error).message}; the next run makes a full shard`,
      ),
    );
  }

  private async archive(
    id: string,
    keys: { archive: string; index: string },
    format: StoredFormat,
    spoolDir: string,
    destinations: Opened[],
    detector: ChangeDetector | undefined,
  ): Promise<SpooledArchive> {
    const { backup } = this.config;
    // Throttled before the event is made: the packer reports every file.
    const progress = throttle(({ files, bytesIn, bytesOut }: Readonly<PackStats> & { bytesOut: number }) =>
      this.emit({ type: 'archive-progress', files, bytesIn, bytesOut }),
    );
    const { onFile } = this.options;
    // With a file listener (run -vv) on an incremental: the files met before the change detector, to count the unchanged ones.
    const incremental = this.plan.type === 'incremental';
    const counting = onFile !== undefined && incremental;
    const seen = { files: 0, stored: 0 };
    this.emit({ type: 'archive-start' });
    const entries = readSources(backup.sources, {
      spoolDir: backup.spool_dir,
      dumpDir: spoolDir,
      configDir: this.config.dir,
      problems: this.problems,
      // A source that holds them would store every earlier shard, and its own state, again.
      leaveOut: [
        { path: backup.state_dir, what: 'the state folder' },
        ...destinations.flatMap(({ resolved, destination }) =>
          destination?.localPath === undefined
            ? []
            : [{ path: destination.localPath, what: `the folder of destination ${resolved.name}` }],
        ),
      ],
      ...(detector && {
        select: (source: Iterable<SourceEntry>) =>
          detector.select(counting ? countFiles(source, seen) : source),
      }),
      ...(onFile && { onExcluded: (path: string, rule: string) => onFile({ type: 'excluded', path, rule }) }),
    });
    const plan = this.plan;
    const onArchived = archivedListener(detector, onFile, seen, incremental);
    const keepers = await spoolKeepers(
      spoolDir,
      destinations.map(({ resolved, destination }) => ({
        name: resolved.name,
        // A paced destination is sent the bytes as a stream, never the file.
        folder: resolved.bandwidthLimit === undefined ? destination?.localPath : undefined,
      })),
    );
    const archive = await writeArchive(entries, {
      id,
      createdAt: this.now,
      ...(plan.type === 'incremental' && {
        incremental: { parent: plan.parent.id, base: plan.base, deleted: () => detector!.deleted() },
      }),
      ...(onArchived && { onArchived }),
      sources: backup.sources.map((source) => source.name),
      origins: sourceOrigins(backup.sources),
      spoolDir,
      fileName: keys.archive,
      indexFileName: keys.index,
      format,
      problems: this.problems,
      keptInPlace: keepers.length,
      onProgress: progress.push,
    });
    if (onFile && incremental) onFile({ type: 'unchanged', files: seen.files - seen.stored });
    this.emit({
      type: 'archive-done',
      files: archive.files,
      bytesIn: archive.bytesIn,
      bytesOut: archive.size,
      sha256: archive.sha256,
    });
    return { ...archive, fileFor: spoolFileFor(keepers, archive) };
  }

  /** Every destination in parallel; without a shard (nothing archived) only the open failures are reported. */
  private fanOut(opened: Opened[], shard: SpooledShard | undefined): Promise<DestinationResult[]> {
    const policy = retryPolicy(this.config.backup.retry);
    const uploads = new Map<string, Promise<DestinationResult>>();
    const upload = async ({ resolved, destination, failure }: Opened): Promise<DestinationResult> => {
      if (failure || !destination || !shard) {
        const result = failure ?? this.skipped(resolved);
        if (result.error)
          this.emit({
            type: 'upload-done',
            destination: resolved.name,
            status: 'failed',
            error: result.error,
          });
        return result;
      }
      const { fileFor, ...spooled } = shard;
      const { file, after } = fileFor(resolved.name);
      // The first keeper comes before the others in the destinations' order, so it is in the map.
      if (after !== undefined) await uploads.get(after)?.catch(() => undefined);
      return stopCleanlyOnInterrupt(
        uploadShard({
          name: resolved.name,
          type: resolved.type,
          required: resolved.required,
          destination,
          ...spooled,
          file,
          stream: after !== undefined,
          policy,
          emit: (event) => this.emit(event),
          warn: this.warn,
          describe: (error) => this.describe(error),
        }),
      );
    };
    for (const entry of opened) uploads.set(entry.resolved.name, upload(entry));
    return Promise.all(uploads.values());
  }

  private async open(resolved: ResolvedDestination): Promise<Opened> {
    const started = performance.now();
    const before = resolved.hooks?.before ?? [];
    const hooksRan = Boolean(resolved.hooks);
    try {
      // Before opening: a hook may mount the disk or wake the server the destination is on.
      if (before.length)
        await runHooks(before, this.hookState('before', { name: resolved.name }), {
          secrets: this.config.secrets,
          onLine: (hook, line) => this.emit({ type: 'hook-output', hook, line }),
        });
      return { resolved, hooksRan, destination: await openDestination(this.config, resolved) };
    } catch (error) {
      return {
        resolved,
        hooksRan,
        failure: {
          ...this.skipped(resolved),
          status: 'failed',
          durationMs: Math.round(performance.now() - started),
          error: this.describe(error),
        },
      };
    }
  }

  private summary(id: string, destinations: DestinationResult[], extra: Partial<RunSummary>): RunSummary {
    for (const result of destinations) this.results.set(result.name, result);
    const stored = destinations.filter((result) => result.status === 'success');
    const requiredFailed = destinations.filter((result) => result.required && result.status !== 'success');
    const dryRun = Boolean(this.options.dryRun);
    let status: RunSummary['status'] = 'success';
    let error = extra.error;
    if (error || (!dryRun && stored.length === 0)) {
      status = 'failed';
      error ??= failureOf('no destination stored the shard', destinations);
    } else if (!dryRun && requiredFailed.length > 0) {
      status = 'partial';
      error = failureOf('required destination failed', requiredFailed);
    } else if (this.problems.list.length > 0) {
      status = 'warning';
    }
    for (const result of destinations) {
      if (!result.required && result.status === 'failed' && status !== 'failed') {
        this.warn(
          warning(
            'DESTINATION_FAILED',
            `optional destination ${result.name} failed: ${result.error?.message ?? 'unknown error'}`,
            { destination: result.name },
          ),
        );
      }
    }
    return {
      id,
      status,
      dryRun,
      type: this.plan.type,
      ...(this.plan.type === 'full' && this.plan.reason ? { fullReason: this.plan.reason } : {}),
      ...(this.plan.type === 'incremental' && this.plan.listFrom
        ? { parentListFrom: this.plan.listFrom }
        : {}),
      startedAt: this.now.toISOString(),
      durationMs: Math.round(performance.now() - this.started),
      ...extra,
      destinations,
      warnings: this.warnings,
      sourceWarnings: this.problems.list,
      ...(error ? { error } : {}),
    };
  }

  private skipped(resolved: ResolvedDestination): DestinationResult {
    return {
      name: resolved.name,
      type: resolved.type,
      required: resolved.required,
      status: 'skipped',
      bytes: 0,
      durationMs: 0,
      attempts: 0,
    };
  }

  private describe(error: unknown): { code: string; message: string; retryable: boolean } {
    const message = error instanceof Error ? error.message : String(error);
    return {
      code: isMatricError(error) ? error.code : 'UNKNOWN',
      message: redact(message, this.config.secrets),
      retryable: isDestinationError(error) && error.retryable,
    };
  }

  /** A failure of the run itself (a source, the spool), for RunSummary.error. */
  private runError(error: unknown): NonNullable<RunSummary['error']> {
    const { code, message } = this.describe(error);
    const hint = isMatricError(error) ? error.hint : undefined;
    return hint ? { code, message, hint: redact(hint, this.config.secrets) } : { code, message };
  }

  private readonly warn = (found: Warning): void => {
    const clean = { ...found, message: redact(found.message, this.config.secrets) };
    this.warnings.push(clean);
    this.emit({ type: 'warning', warning: clean });
  };

  private emit(event: RunEvent): void {
    try {
      this.options.onEvent?.(event);
    } catch {
      // A failing progress listener must not fail the backup.
    }
  }
}

function failureOf(what: string, failed: DestinationResult[]): { code: string; message: string } {
  const withErrors = failed.filter((result) => result.error);
  const details = withErrors.map((result) => `${result.name}: ${result.error!.message}`).join('; ');
  return { code: withErrors[0]?.error?.code ?? 'UNKNOWN', message: details ? `${what}: ${details}` : what };
}

/** Passes the entries on, counting the files among them. */
function* countFiles(entries: Iterable<SourceEntry>, seen: { files: number }) {
  for (const entry of entries) {
    if (entry.type === 'file') seen.files++;
    yield entry;
  }
}

/**
 * What the packer calls for each file it archived: the change detector's note,
 * and with a file listener the file as stored (new or changed in an incremental).
 * Undefined when neither wants it, so a plain run pays nothing per file.
 */
function archivedListener(
  detector: ChangeDetector | undefined,
  onFile: RunOptions['onFile'],
  seen: { stored: number },
  incremental: boolean,
): PackOptions['onArchived'] {
  if (!onFile) return detector && ((...archived) => detector.archived(...archived));
  return (path, sha256, info, grewWhileRead) => {
    seen.stored++;
    // Asked before archived() settles the record: in the parent's list means changed.
    const change = incremental && detector ? (detector.inParent(path) ? 'changed' : 'new') : undefined;
    detector?.archived(path, sha256, info, grewWhileRead);
    try {
      onFile({ type: 'stored', path, ...(change && { change }) });
    } catch {
      // A failing listener must not fail the backup.
    }
  };
}
