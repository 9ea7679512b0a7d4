import type { LoadedConfig } from '../config/types.js';
import type { HookRunState, HookWhen } from '../hooks/env.js';
import { runHooks } from '../hooks/run-hooks.js';
import type { Warning } from '../util/warning.js';
import type { RunEvent, RunOptions, RunSummary } from './types.js';

/**
 * The config's hooks around one run, inside its lock (a second run refused by
 * the lock runs none: its `before` would stop what the first one backs up).
 * `before` hooks run first, in order; the first that fails aborts the run
 * (HOOK_FAILED, nothing archived). Then `after` (the shard is stored: success,
 * warning or partial), `on_error` (partial or failed, a failed `before`
 * included) and `finally` (always), each with the run's outcome in its
 * environment. A failure of those is a warning and turns a `success` into a
 * `warning`: the shard is stored, but what the hook should have done (start a
 * service again) may not be done.
 */
export class RunHooks {
  constructor(
    private readonly config: LoadedConfig,
    private readonly options: Pick<RunOptions, 'onEvent' | 'exitCodeOf'>,
  ) {}

  /** Throws HOOK_FAILED when a `before` hook fails. */
  async before(): Promise<void> {
    await this.run('before', undefined);
  }

  /** Runs after, on_error and finally as the outcome asks; returns the summary with their failures. */
  async after(summary: RunSummary): Promise<RunSummary> {
    const hooks = this.config.backup.hooks;
    if (!hooks) return summary;
    const failures: Warning[] = [];
    if (summary.status !== 'failed') failures.push(...(await this.run('after', summary)));
    if (summary.status === 'partial' || summary.status === 'failed')
      failures.push(...(await this.run('on_error', summary)));
    failures.push(...(await this.run('finally', summary)));
    if (failures.length === 0) return summary;
    for (const failure of failures) {
      summary.warnings.push(failure);
      this.emit({ type: 'warning', warning: failure });
    }
    return summary.status === 'success' ? { ...summary, status: 'warning' } : summary;
  }

  private async run(when: HookWhen, summary: RunSummary | undefined): Promise<Warning[]> {
    const list = this.config.backup.hooks?.[when] ?? [];
    if (list.length === 0) return [];
    return runHooks(list, runState(this.config, when, summary, this.options.exitCodeOf), {
      secrets: this.config.secrets,
      onLine: (hook, line) => this.emit({ type: 'hook-output', hook, line }),
    });
  }

  private emit(event: RunEvent): void {
    try {
      this.options.onEvent?.(event);
    } catch {
      // A failing progress listener must not fail the backup.
    }
  }
}

/** What a hook's environment says about the run at `when`. */
export function runState(
  config: LoadedConfig,
  when: HookWhen,
  summary: RunSummary | undefined,
  exitCodeOf: RunOptions['exitCodeOf'],
): HookRunState {
  const { file } = config;
  const { name, source_instance: sourceInstance } = config.backup;
  return {
    when,
    config: { file, name, sourceInstance },
    ...(summary && { runId: summary.id }),
    status: summary?.status ?? 'running',
    ...(summary && exitCodeOf && { exitCode: exitCodeOf(summary.status) }),
    ...(summary?.error && { error: summary.error }),
    destinations: (summary?.destinations ?? []).map((result) => ({
      name: result.name,
      status: result.status,
      ...(result.error && { error: result.error }),
    })),
  };
}
