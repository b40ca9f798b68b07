import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

/** The development virtualenv with the Python references (scripts/reference/requirements.txt). */
export const venvPython = join(import.meta.dirname, '..', '..', '.venv', 'bin', 'python');

/** True when the venv exists and can import every module named. */
export function pythonHas(...modules: string[]): boolean {
  if (!existsSync(venvPython)) return false;
  try {
    execFileSync(venvPython, ['-c', modules.map((m) => `import ${m}`).join(';')], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** The keys of the original's combined.json, in its order (ours may add keys after them). */
export const COMBINED_JSON_KEYS = [
  'song_id',
  'duration_s',
  'tempo_bpm',
  'num_beats',
  'num_bars',
  'stems',
  'num_notes_per_stem',
  'essentia_requested',
  'essentia_available',
  'files_generated',
  'step_timings',
  'config',
  'environment',
  'capabilities',
];
