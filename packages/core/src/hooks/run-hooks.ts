import { MatricError } from '@matric-backup/plugin-api';
import type { ResolvedHook } from '../config/paths.js';
import { redact } from '../util/redact.js';
import { type Warning, warning } from '../util/warning.js';
import { type HookRunState, hookEnv } from './env.js';
import { runHook } from './run-hook.js';

export interface HookListener {
  /** One line a hook wrote, masked; `hook` names it as messages do, e.g. `before hook [systemctl stop app]`. */
  onLine?: (hook: string, line: string) => void;
}

/**
 * Runs `hooks` one after the other. `before` hooks stop at the first failure
 * and throw HOOK_FAILED (what they prepare is not there); the others all run
 * whatever one of them did, and their failures come back as HOOK_FAILED
 * warnings naming the hook, its command, how it ended and its last output.
 */
export async function runHooks(
  hooks: readonly ResolvedHook[],
  state: HookRunState,
  options: HookListener & { secrets: readonly string[] },
): Promise<Warning[]> {
  const failures: Warning[] = [];
  const env = hookEnv(state, options.secrets);
  for (const hook of hooks) {
    const name = `${state.destination ? `destination ${state.destination.name} ` : ''}${state.when} hook [${hook.label}]`;
    const outcome = await runHook(hook, env, {
      secrets: options.secrets,
      onLine: (line) => options.onLine?.(name, line),
    });
    if (outcome.ok) continue;
    const quoted = outcome.tail.length ? `; its last output:\n${outcome.tail.join('\n')}` : ' (no output)';
    const message = `${name} ${outcome.reason}${quoted}`;
    if (state.when === 'before')
      throw new MatricError('HOOK_FAILED', message, {
        hint: state.destination
          ? `nothing was uploaded to ${state.destination.name}; fix the hook or run it by hand to see why`
          : 'nothing was backed up; fix the hook (run it by hand to see why), then run again',
      });
    failures.push(
      warning('HOOK_FAILED', redact(message, options.secrets), {
        hook: redact(name, options.secrets),
        command: redact(hook.label, options.secrets),
        ...(state.destination && { destination: state.destination.name }),
        ...(outcome.exitCode !== null && { exit_code: outcome.exitCode }),
        ...(outcome.signal && { signal: outcome.signal }),
        output_tail: outcome.tail,
      }),
    );
  }
  return failures;
}
