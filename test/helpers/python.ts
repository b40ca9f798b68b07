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
