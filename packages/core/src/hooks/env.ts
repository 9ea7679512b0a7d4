import { redact } from '../util/redact.js';

/** When a hook runs: around the whole run, or around one destination's upload (`destination` set). */
export type HookWhen = 'before' | 'after' | 'on_error' | 'finally';

export interface HookRunState {
  when: HookWhen;
  config: { file: string; name: string; sourceInstance: string };
  /** The shard id; unknown before the run picks it (config `before` hooks). */
  runId?: string;
  /** `running` while the run has no outcome yet (before hooks, a destination's hooks). */
  status: 'running' | 'success' | 'warning' | 'partial' | 'failed';
  /** The exit code the run ends with, once it has an outcome. */
  exitCode?: number;
  error?: { code: string; message: string };
  destinations: Array<{ name: string; status: string; error?: { code: string } }>;
  /** A destination's hook: its name, and after its upload, how that went. */
  destination?: { name: string; status?: 'success' | 'failed'; error?: { code: string; message: string } };
}

/**
 * The variables a hook gets, added to the environment the CLI was started
 * with. Every one is always set (empty when not known yet), so a script can
 * use `set -u`. Error messages are masked like every other output.
 */
export function hookEnv(state: HookRunState, secrets: readonly string[]): Record<string, string> {
  const mask = (text: string) => redact(text, secrets);
  const error = state.destination ? state.destination.error : state.error;
  return {
    MATRIC_BACKUP_HOOK: state.when,
    MATRIC_BACKUP_CONFIG: state.config.file,
    MATRIC_BACKUP_NAME: state.config.name,
    MATRIC_BACKUP_SOURCE_INSTANCE: state.config.sourceInstance,
    MATRIC_BACKUP_RUN_ID: state.runId ?? '',
    MATRIC_BACKUP_STATUS: state.status,
    MATRIC_BACKUP_EXIT_CODE: state.exitCode === undefined ? '' : String(state.exitCode),
    MATRIC_BACKUP_ERROR_CODE: error?.code ?? '',
    MATRIC_BACKUP_ERROR: error ? mask(error.message) : '',
    // Destination names are letters, digits, . _ - : `name:status` splits on the last colon safely.
    MATRIC_BACKUP_DESTINATIONS: state.destinations.map((entry) => `${entry.name}:${entry.status}`).join(' '),
    MATRIC_BACKUP_DESTINATIONS_JSON: JSON.stringify(
      state.destinations.map((entry) => ({
        name: entry.name,
        status: entry.status,
        error_code: entry.error?.code ?? null,
      })),
    ),
    MATRIC_BACKUP_DESTINATION: state.destination?.name ?? '',
    MATRIC_BACKUP_DESTINATION_STATUS: state.destination?.status ?? '',
  };
}
