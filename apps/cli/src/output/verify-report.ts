import type { ShardProblem } from '@matric-backup/core';
import type { VerifyLine, VerifyProblem } from '../operations/verify.js';
import { formatBytes, formatCount } from './format.js';
import type { Printer } from './printer.js';

/** A damaged shard can have thousands of problems: a terminal shows this many, --json all. */
const PROBLEMS_SHOWN = 20;

function problemText(problem: VerifyProblem | ShardProblem): string {
  return problem.path ? `${problem.path}: ${problem.reason}` : problem.reason;
}

/** `ok` with the files and bytes checked, or `FAILED` with the count and the first problems. */
export function printVerifyLine(printer: Printer, line: VerifyLine): void {
  const { style } = printer;
  if (line.ok && line.sampled === false) {
    printer.line(
      `${style.ok('ok')}      ${line.destination}  ${line.id}  size only (not in the sample)${linkOf(line)}`,
    );
    return;
  }
  if (line.ok) {
    printer.line(
      `${style.ok('ok')}      ${line.destination}  ${line.id}  ${formatCount(line.files_checked, 'file')}, ${formatBytes(line.bytes)}${linkOf(line)}`,
    );
    return;
  }
  const [first, ...rest] = line.problems;
  const heading = `${style.bad('FAILED')}  ${line.destination}  ${line.id || '-'}${linkOf(line)}`;
  if (rest.length === 0) {
    printer.line(`${heading}  ${first ? problemText(first) : ''}`);
    return;
  }
  printer.line(`${heading}  ${formatCount(line.problems.length, 'problem')}:`);
  for (const problem of line.problems.slice(0, PROBLEMS_SHOWN))
    printer.line(`        ${problemText(problem)}`);
  const more = line.problems.length - PROBLEMS_SHOWN;
  if (more > 0) printer.line(`        ... and ${more.toLocaleString('en-US')} more (--json lists every one)`);
}

/** The closing error line of a failed shard: the count and the first problem, never the whole list. */
export function failureSummary(line: VerifyLine): string {
  const [first] = line.problems;
  if (!first) return 'failed';
  const count = line.problems.length;
  return count === 1
    ? problemText(first)
    : `${formatCount(count, 'problem')}, the first: ${problemText(first)}`;
}

function linkOf(line: VerifyLine): string {
  return line.link_of ? ` (in the chain of ${line.link_of})` : '';
}
