import { rm } from 'node:fs/promises';
import { configWords, interruptAndCleanUp, type LoadedConfig, redact } from '@matric-backup/core';
import type { FastifyInstance } from 'fastify';
import { ExitCode, errorRecord } from '../exit-codes.js';
import type { EventLog } from '../output/event-log.js';
import { buildApi } from './api/app.js';
import { describeApiError, jobOutcomeOf } from './api/errors.js';
import { Jobs } from './jobs.js';
import { listenOnSocket } from './listen.js';
import { createServiceMetrics } from './metrics.js';
import { Runner } from './runner.js';
import { createScheduler, type DueRun, lastSuccessfulRun, type Scheduler } from './scheduler.js';
import type { Service } from './service.js';
import { type ApiSettings, resolveApiSettings } from './settings.js';
import { startBackup } from './work/backup.js';

export interface ServeOptions {
  /** Loads the config (again on SIGHUP), as the CLI does: the same file, its secrets registered. */
  load: () => Promise<LoadedConfig>;
  env: NodeJS.ProcessEnv;
  version: string;
  /** How long SIGTERM waits for running jobs before aborting them. */
  stopTimeoutMs: number;
  /** Where events go: JSON lines on stdout, or text for a terminal (--log-format). */
  log: EventLog;
}

/** How long uploads in flight get to remove what they began when a stop aborts them. */
const UPLOAD_ABORT_GRACE_MS = 5000;

/**
 * `serve`: the schedule, the API on its socket (and TCP when configured), and
 * the signals. Resolves with the exit code once stopped: 0 when SIGTERM found
 * the running jobs finished within the timeout, 143 when it aborted them.
 */
export async function serve(options: ServeOptions): Promise<ExitCode> {
  const first = await options.load();
  let settings = await resolveApiSettings(first, options.env);
  const { log } = options;
  let scheduler: Scheduler | undefined;
  const service: Service = {
    config: first,
    settings,
    jobs: new Jobs((error) => jobOutcomeOf(error, (text) => service.redact(text))),
    runner: undefined as unknown as Runner,
    log,
    startedAt: new Date(),
    stopping: false,
    metrics: await createServiceMetrics(first),
    schedule: () => scheduler,
    redact: (text) => redact(text, service.config.secrets, configWords(service.config)),
  };
  Object.assign(service, { runner: new Runner(service.jobs) });

  // The schedule first: a cron expression that does not parse is a config error before anything listens.
  const onDue = (due: DueRun) => scheduledBackup(service, due);
  scheduler = await createScheduler({
    config: first,
    lastSuccessAt: await lastSuccessfulRun(first),
    onDue,
  });
  const apps: FastifyInstance[] = [];
  let listening = false;
  try {
    const socketApp = await buildApi(service, options.version);
    apps.push(socketApp);
    await listenOnSocket(socketApp, settings.socket);
    listening = true;
    if (settings.listen) {
      const tcpApp = await buildApi(service, options.version);
      apps.push(tcpApp);
      await tcpApp.listen({ host: settings.listen.host, port: settings.listen.port });
    }
  } catch (error) {
    // Nothing may keep the process alive after a failed start (a TCP port in use): the error is its exit.
    scheduler.stop();
    await Promise.all(apps.map((app) => app.close().catch(() => undefined)));
    // Only our own socket: one another `serve` answers on is left to it.
    if (listening) await rm(settings.socket, { force: true });
    throw error;
  }
  log.info(
    {
      config: first.file,
      socket: settings.socket,
      ...(settings.listen && { listen: `${settings.listen.host}:${settings.listen.port}` }),
      schedule: scheduler.description,
      next_run: scheduler.next?.toISOString() ?? null,
    },
    'service started',
  );

  const reload = async () => {
    try {
      const next = await options.load();
      const nextSettings = await resolveApiSettings(next, options.env);
      // run_on_start means the service's start, not each reload.
      const nextScheduler = await createScheduler({
        config: {
          ...next,
          backup: {
            ...next.backup,
            schedule: next.backup.schedule && { ...next.backup.schedule, run_on_start: false },
          },
        },
        lastSuccessAt: await lastSuccessfulRun(next),
        onDue,
      });
      if (!sameAddresses(settings, nextSettings)) {
        log.warn({}, 'backup.api.socket and backup.api.listen take effect at the next start');
      }
      scheduler?.stop();
      scheduler = nextScheduler;
      service.config = next;
      settings = {
        ...nextSettings,
        socket: settings.socket,
        ...(settings.listen && { listen: settings.listen }),
      };
      service.settings = settings;
      log.info(
        {
          config: next.file,
          schedule: nextScheduler.description,
          next_run: nextScheduler.next?.toISOString() ?? null,
        },
        'config reloaded',
      );
    } catch (error) {
      const { code, message } = errorRecord(error);
      log.error(
        { error: { code, message: service.redact(message) } },
        'config reload failed; the previous config stays in force',
      );
    }
  };

  return new Promise<ExitCode>((resolve) => {
    const stop = async (signal: NodeJS.Signals) => {
      if (service.stopping) return;
      service.stopping = true;
      scheduler?.stop();
      log.info(
        { signal, running: service.jobs.list().filter((job) => job.status === 'running').length },
        'service stopping',
      );
      let timer: NodeJS.Timeout | undefined;
      const finished = await Promise.race([
        service.jobs.idle().then(() => true),
        new Promise<boolean>((done) => {
          timer = setTimeout(() => done(false), options.stopTimeoutMs);
        }),
      ]);
      clearTimeout(timer);
      if (!finished) {
        // Uploads abort and remove what they began; spool files, the run lock and a restore's
        // temporary folder are removed: what a stored shard needs is either whole or gone.
        log.warn({ timeout_ms: options.stopTimeoutMs }, 'running jobs did not finish in time: aborting them');
        await interruptAndCleanUp(UPLOAD_ABORT_GRACE_MS, signal);
      }
      await Promise.all(apps.map((app) => app.close().catch(() => undefined)));
      await rm(settings.socket, { force: true });
      log.info({ signal, aborted: !finished }, 'service stopped');
      // An aborted run may still wait on a source command or a stream that will never end: exit
      // as the CLI does after an interrupt, its leftovers already removed.
      if (!finished) process.exit(ExitCode.TERMINATED);
      process.off('SIGHUP', onHup);
      resolve(ExitCode.OK);
    };
    const onHup = () => void reload();
    // The CLI's own handlers exit at once; the service stops in its own time instead.
    process.removeAllListeners('SIGTERM');
    process.removeAllListeners('SIGINT');
    process.once('SIGTERM', () => void stop('SIGTERM'));
    process.once('SIGINT', () => void stop('SIGINT'));
    process.on('SIGHUP', onHup);
  });
}

/** A due scheduled run; skipped (and recorded as a skipped job) while another backup or deletion runs. */
function scheduledBackup(service: Service, due: DueRun): void {
  const caller = `scheduler:${due.reason}`;
  try {
    startBackup(service, caller, {});
  } catch (error) {
    const { error: record } = describeApiError(error, service.redact);
    const job = service.jobs.skipped('backup', caller, record);
    service.metrics.observeSkipped();
    service.log.warn(
      { job: job.id, reason: due.reason, scheduled_at: due.scheduledAt.toISOString(), error: record },
      'scheduled backup skipped',
    );
  }
}

function sameAddresses(a: ApiSettings, b: ApiSettings): boolean {
  return a.socket === b.socket && a.listen?.host === b.listen?.host && a.listen?.port === b.listen?.port;
}
