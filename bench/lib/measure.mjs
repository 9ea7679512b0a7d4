// Wall-clock and peak-RSS measurement of child processes.
import { spawn } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const RSS_PRELOAD = new URL('./rss-preload.mjs', import.meta.url).pathname;

function run(command, args, env) {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(command, args, {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code, signal) =>
      resolve({
        seconds: (performance.now() - started) / 1000,
        exitCode: code ?? 128,
        signal,
        stdout,
        stderr,
      }),
    );
  });
}

function failure(what, result) {
  const tail = (result.stderr || result.stdout).trim().split('\n').slice(-5).join('\n');
  return new Error(
    `${what} exited ${result.exitCode}${result.signal ? ` (${result.signal})` : ''}:\n${tail}`,
  );
}

/** Times a bash pipeline (with pipefail); throws when it fails. */
export async function timeShell(script) {
  const result = await run('bash', ['-o', 'pipefail', '-c', script]);
  if (result.exitCode !== 0) throw failure(script, result);
  return { seconds: result.seconds };
}

/**
 * Runs the built CLI's `run -c CONFIG --json` under the RSS preload and returns
 * wall seconds, peak RSS in MB and the parsed JSON summary. Throws on a non-zero
 * exit unless `allowFailure`, so a broken run never prints as a speed.
 */
export async function runCli(cliBin, tmp, configPath, { args = [], allowFailure = false } = {}) {
  const rssFile = join(tmp, `rss-${process.pid}-${Date.now()}`);
  const result = await run(
    process.execPath,
    [...binNodeFlags(cliBin), '--import', RSS_PRELOAD, cliBin, 'run', '-c', configPath, '--json', ...args],
    {
      MATRIC_BENCH_RSS_FILE: rssFile,
      NO_COLOR: '1',
    },
  );
  if (result.exitCode !== 0 && !allowFailure) throw failure(`matric-backup run -c ${configPath}`, result);
  let peakRssMb;
  try {
    peakRssMb = (Number(readFileSync(rssFile, 'utf8')) * 1024) / 1e6;
    rmSync(rssFile);
  } catch {
    // The process died before its exit hook ran (a signal); no RSS to report.
  }
  let summary;
  try {
    summary = JSON.parse(result.stdout);
  } catch {
    summary = undefined;
  }
  return { seconds: result.seconds, peakRssMb, exitCode: result.exitCode, summary, stderr: result.stderr };
}

/** The node flags the bin's `#!/usr/bin/env -S node ...` line gives an installed `matric-backup`. */
export function binNodeFlags(cliBin) {
  const shebang = readFileSync(cliBin, 'utf8').split('\n', 1)[0];
  const match = /^#!\/usr\/bin\/env -S node(.*)$/.exec(shebang);
  return match ? match[1].trim().split(/\s+/).filter(Boolean) : [];
}
