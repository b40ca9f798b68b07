// The browser scripts (lib/**/browser/*.ts): compiled with tsconfig.browser.json (DOM types, no
// Node types) and written as the classic inline scripts the pages embed, one per source, at the
// same path under dist/ (lib/reports/html/browser/report.ts → dist/reports/html/browser/report.js),
// where the module that inlines it reads it (lib/util/browserScript.ts). Part of `npm run build:ts`
// and `prepare`, after `tsc -p tsconfig.json`; the tests' global setup runs it too.
//
// Each source is a module (its own scope) that may import types only. Its emit ends with the
// `export {};` TypeScript adds to a module; that goes, and the body is wrapped in a strict-mode
// function, so it runs as an inline classic script with the scope and strictness it was checked with.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const lib = join(root, 'lib');
const dist = join(root, 'dist');

/** lib/**\/browser/*.ts, relative to lib/. */
function browserSources(dir = lib) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return browserSources(path);
    return e.name.endsWith('.ts') && !e.name.endsWith('.d.ts') && /(^|\/)browser$/.test(relative(lib, dir)) ? [relative(lib, path)] : [];
  });
}

/** The inline script for one compiled module's text; throws when it cannot be one. */
function toInlineScript(emitted, name) {
  const body = emitted.replace(/\n?export \{\};\s*$/, '\n');
  const moduleSyntax = /^\s*(import|export)\b/m.exec(body);
  if (moduleSyntax) throw new Error(`${name}: a browser script may import types only (found \`${moduleSyntax[1]}\` in its output)`);
  // Inline in <script>: either would end or confuse the element.
  if (/<\/script|<!--/i.test(body)) throw new Error(`${name}: the output holds "</script" or "<!--", which cannot sit inside an inline <script>`);
  return `(() => {\n'use strict';\n${body}})();\n`;
}

const sources = browserSources();
if (sources.length === 0) throw new Error('build-browser: no lib/**/browser/*.ts found');
const out = mkdtempSync(join(tmpdir(), 'didactic-browser-'));
try {
  const tsc = join(dirname(require.resolve('typescript/package.json')), 'bin', 'tsc');
  const run = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.browser.json'), '--noEmit', 'false', '--outDir', out], {
    cwd: root,
    stdio: 'inherit',
  });
  if (run.status !== 0) process.exit(run.status ?? 1);
  for (const source of sources) {
    const js = source.replace(/\.ts$/, '.js');
    const target = join(dist, js);
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, toInlineScript(readFileSync(join(out, js), 'utf8'), `lib/${source}`));
  }
  console.log(`build-browser: ${sources.map((s) => `dist/${s.replace(/\.ts$/, '.js')}`).join(', ')}`);
} catch (err) {
  console.error(`build-browser: ${err.message}`);
  process.exitCode = 1;
} finally {
  rmSync(out, { recursive: true, force: true });
}
