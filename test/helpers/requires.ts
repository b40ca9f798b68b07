/**
 * What a suite needs from the machine, declared by the suite itself: `describe(name,
 * requires(onPath('redis-server', 'apt-get install redis-server')), () => …)` skips the suite when
 * a need is unmet and puts the reason in the tests' `meta.skipReason`, which vitest's JSON report
 * carries; `npm test` (scripts/run-tests.mjs) prints the skipped tests grouped by that reason.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { TestOptions } from 'vitest';

import { findChromium } from '../../lib/reports/html/png.js';
import { pythonHas } from './python.js';

declare module 'vitest' {
  interface TaskMeta {
    /** Why the test was skipped (set by `requires`): what is missing — how to get it. */
    skipReason?: string;
  }
}

/** One need: whether the machine meets it and, when not, the reason a skip reports. */
export interface Need {
  readonly met: boolean;
  readonly reason: string;
}

/** A need from a condition already computed: `reason` says what is missing and how to get it. */
export function need(met: boolean, reason: string): Need {
  return { met, reason };
}

/**
 * Options for `describe`/`it`: none when every need is met, else `skip` with the first unmet need's
 * reason in `meta.skipReason` (inherited by every test of a skipped suite).
 */
export function requires(...needs: Need[]): TestOptions {
  const unmet = needs.find((n) => !n.met);
  return unmet ? { skip: true, meta: { skipReason: unmet.reason } } : {};
}

/** The full path of `command` on PATH, or undefined. */
export function which(command: string): string | undefined {
  const r = spawnSync('sh', ['-c', `command -v ${command}`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() || undefined : undefined;
}

/** A program on PATH; `install` says how to get it (e.g. `apt-get install redis-server`). */
export function onPath(command: string, install: string): Need {
  return need(which(command) !== undefined, `${command} not installed — ${install}`);
}

/** The Python reference environment (.venv), with these modules importable. */
export function venv(...modules: string[]): Need {
  const what = modules.length > 0 ? ` with ${modules.join(', ')}` : '';
  return need(pythonHas(...modules), `Python reference environment missing (.venv${what}) — run \`npm run setup:reference\``);
}

/** A Chromium for the browser tests: the lookup renderReportPng uses (findChromium). */
export function installedChromium(): Need {
  return need(findChromium() !== null, 'no Chromium installed — apt-get install chromium fonts-dejavu-core, or set DIDACTIC_CHROMIUM');
}

/** A file or folder that must exist; `reason` says what it is and how to get it. */
export function file(path: string, reason: string): Need {
  return need(existsSync(path), reason);
}

/** Not running as root (root passes permission checks a test needs to fail). */
export function notRoot(): Need {
  return need(process.getuid?.() !== 0, 'a permission test cannot fail as root — run as a normal user');
}
