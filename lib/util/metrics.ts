/**
 * Per-step resource figures: wall and CPU time, peak RSS, bytes read and written. Byte counts come
 * from /proc/self/io (rchar/wchar: every read/write syscall of the process, files and pipes) on
 * Linux and are null elsewhere. With several songs in one process (--jobs > 1) CPU and I/O are
 * process-wide, so per-step figures then include the other songs' work; wall time does not.
 */
import { readFileSync } from 'node:fs';

export interface StepMetrics {
  wall_s: number;
  cpu_s: number;
  /** Peak resident set size of the process so far (MiB), read when the step ended. */
  peak_rss_mib: number;
  read_bytes: number | null;
  written_bytes: number | null;
}

interface IoCounters {
  rchar: number;
  wchar: number;
}

function readIo(): IoCounters | null {
  if (process.platform !== 'linux') return null;
  try {
    const text = readFileSync('/proc/self/io', 'utf8');
    const get = (key: string) => Number(new RegExp(`^${key}:\\s*(\\d+)`, 'm').exec(text)?.[1] ?? NaN);
    const io = { rchar: get('rchar'), wchar: get('wchar') };
    return Number.isFinite(io.rchar) && Number.isFinite(io.wchar) ? io : null;
  } catch {
    return null;
  }
}

/** Starts measuring; call the returned function when the step ends. */
export function startStepMetrics(): () => StepMetrics {
  const wall0 = performance.now();
  const cpu0 = process.cpuUsage();
  const io0 = readIo();
  return () => {
    const cpu = process.cpuUsage(cpu0);
    const io1 = io0 ? readIo() : null;
    return {
      wall_s: round3((performance.now() - wall0) / 1000),
      cpu_s: round3((cpu.user + cpu.system) / 1e6),
      // resourceUsage().maxRSS is in KiB on Linux.
      peak_rss_mib: Math.round((process.resourceUsage().maxRSS / 1024) * 10) / 10,
      read_bytes: io0 && io1 ? io1.rchar - io0.rchar : null,
      written_bytes: io0 && io1 ? io1.wchar - io0.wchar : null,
    };
  };
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}

/** Resource figures of a batch, summed over the songs it processed. */
export interface BatchMetrics {
  wall_s: number;
  songs_per_minute: number;
  peak_rss_mib: number;
  read_bytes: number | null;
  written_bytes: number | null;
  /** Per step: seconds summed over songs (wall and CPU). */
  steps: Record<string, { wall_s: number; cpu_s: number }>;
}
