// Vitest global setup: builds the pages' browser scripts (scripts/build-browser.mjs) once before any
// test file, so tests that render a page from the TypeScript sources inline the current
// lib/**/browser/*.ts (lib/util/browserScript.ts reads them from dist/), never a stale build.
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

export default function setup(): void {
  const run = spawnSync(process.execPath, [join(root, 'scripts', 'build-browser.mjs')], { cwd: root, encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`scripts/build-browser.mjs failed:\n${run.stdout}${run.stderr}`);
}
