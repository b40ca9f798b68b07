// What the benchmarks share to measure in child processes: a child's JSON report, and the
// /proc/self/status figures a child reports its memory with (Linux).
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** Runs a command and parses the last line of its stdout as JSON: the child's report (lines before it are its log). */
export function runJson(command, args, options = {}) {
  const out = execFileSync(command, args, { encoding: 'utf8', ...options });
  return JSON.parse(out.trim().split('\n').pop());
}

/** Runs `script` as an ES module in a new Node process, `args` as JSON in its process.argv[1]; returns its JSON report. */
export function runScript(script, args, options = {}) {
  return runJson(process.execPath, ['--input-type=module', '-e', script, JSON.stringify(args)], options);
}

/** A /proc/self/status figure in bytes: VmRSS (now) or VmHWM (the peak RSS so far); NaN when absent. */
export function procStatusBytes(key) {
  const m = readFileSync('/proc/self/status', 'utf8').match(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm'));
  return m ? Number(m[1]) * 1024 : Number.NaN;
}

/** This process's peak RSS so far, in bytes (VmHWM). */
export const peakBytes = () => procStatusBytes('VmHWM');
