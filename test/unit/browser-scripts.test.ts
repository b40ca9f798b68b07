// The pages' browser scripts are real source (lib/**/browser/*.ts): the type check covers them with
// DOM types and without Node's, the build (scripts/build-browser.mjs) refuses one that uses a Node
// API or imports anything but types, and the pages inline exactly what the build wrote, allowed by
// the hash of that text. The build runs in a scratch copy of the layout for the failing cases.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runInNewContext } from 'node:vm';

import { describe, expect, it } from 'vitest';

import { renderReportHtml } from '../../lib/reports/html/page.js';
import { inlineScriptHashes, reportPolicy } from '../../lib/service/files.js';
import { servicePageCsp, servicePageHtml } from '../../lib/service/web.js';
import { syntheticReportData } from '../helpers/reportSong.js';
import { useTempDir } from '../helpers/tmp.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const tsc = join(dirname(createRequire(import.meta.url).resolve('typescript/package.json')), 'bin', 'tsc');

/** lib/**\/browser/*.ts, as absolute paths. */
function browserSources(dir = join(root, 'lib')): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return browserSources(path);
    return e.name.endsWith('.ts') && dir.endsWith('/browser') ? [path] : [];
  });
}

/** The files a TypeScript project compiles (`tsc --listFilesOnly`), without the libraries'. */
function programFiles(config: string): string[] {
  const run = spawnSync(process.execPath, [tsc, '-p', join(root, config), '--listFilesOnly'], { cwd: root, encoding: 'utf8' });
  expect(run.status, run.stdout + run.stderr).toBe(0);
  return run.stdout
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.includes('/node_modules/'));
}

const sha256 = (text: string) => `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;

describe('browser scripts as source', () => {
  const sources = browserSources();

  it('finds the report page and the service page scripts', () => {
    expect(sources.map((p) => relative(root, p)).sort()).toEqual(['lib/reports/html/browser/report.ts', 'lib/service/browser/page.ts']);
  });

  it('are type-checked by tsconfig.browser.json (DOM, no Node types), not by the Node config, and `npm run typecheck` runs it', () => {
    const browser = programFiles('tsconfig.browser.json');
    for (const s of sources) expect(browser).toContain(s);
    // Only type declarations come along: the shared report-data shape, no Node module.
    expect(browser.filter((p) => !sources.includes(p)).map((p) => relative(root, p))).toEqual(['lib/reports/html/types.ts']);
    const config = readFileSync(join(root, 'tsconfig.browser.json'), 'utf8');
    expect(config).toMatch(/"lib":\s*\["DOM"/);
    expect(config).toMatch(/"types":\s*\[\]/);
    const node = programFiles('tsconfig.json');
    expect(node.filter((p) => p.includes('/browser/'))).toEqual([]);
    const scripts = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).scripts as Record<string, string>;
    expect(scripts.typecheck).toContain('tsc -p tsconfig.browser.json');
    expect(scripts['build:ts']).toContain('scripts/build-browser.mjs');
  });

  const dir = useTempDir('didactic-browser-pages-');

  it('the pages inline exactly the built scripts, and their CSPs allow that text by hash', async () => {
    const report = readFileSync(join(root, 'dist', 'reports', 'html', 'browser', 'report.js'), 'utf8');
    const page = readFileSync(join(root, 'dist', 'service', 'browser', 'page.js'), 'utf8');
    for (const text of [report, page]) {
      expect(text.startsWith("(() => {\n'use strict';\n")).toBe(true);
      expect(text.endsWith('})();\n')).toBe(true);
      expect(text).not.toMatch(/^\s*(import|export)\b/m);
    }
    const reportHtml = renderReportHtml(syntheticReportData(10));
    expect(reportHtml).toContain(`<script>${report}</script>`);
    expect(inlineScriptHashes(reportHtml)).toContain(sha256(report));
    writeFileSync(join(dir, 'report.html'), reportHtml);
    expect(await reportPolicy(join(dir, 'report.html'))).toContain(sha256(report));
    const html = servicePageHtml();
    expect(html).toContain(`<script>${page}</script>`);
    expect(servicePageCsp(html)).toContain(`script-src ${sha256(page)};`);
  });
});

describe('scripts/build-browser.mjs', () => {
  const dir = useTempDir('didactic-browser-build-');

  /** A scratch project with the real build script and config, and the given browser sources. */
  function project(files: Record<string, string>): string {
    const at = join(dir, `p${readdirSync(dir).length}`);
    mkdirSync(join(at, 'scripts'), { recursive: true });
    copyFileSync(join(root, 'scripts', 'build-browser.mjs'), join(at, 'scripts', 'build-browser.mjs'));
    copyFileSync(join(root, 'tsconfig.browser.json'), join(at, 'tsconfig.browser.json'));
    symlinkSync(join(root, 'node_modules'), join(at, 'node_modules'));
    for (const [name, text] of Object.entries(files)) {
      mkdirSync(dirname(join(at, name)), { recursive: true });
      writeFileSync(join(at, name), text);
    }
    return at;
  }
  const build = (at: string) => spawnSync(process.execPath, [join(at, 'scripts', 'build-browser.mjs')], { cwd: at, encoding: 'utf8' });

  it('writes each script as a strict classic script in its own scope, with type imports erased', () => {
    const at = project({
      'lib/demo/shape.ts': 'export interface Shape {\n  n: number;\n}\n',
      'lib/demo/browser/title.ts': "import type { Shape } from '../shape.js';\n\nconst shape: Shape = { n: 7 };\ndocument.title = 'n=' + shape.n;\n",
    });
    const run = build(at);
    expect(run.status, run.stdout + run.stderr).toBe(0);
    const text = readFileSync(join(at, 'dist', 'demo', 'browser', 'title.js'), 'utf8');
    expect(text).not.toMatch(/\b(import|export)\b/);
    const document = { title: '' };
    // Its top-level names stay inside it: `shape` does not leak into the page's globals.
    const context: Record<string, unknown> = { document };
    runInNewContext(text, context);
    expect(document.title).toBe('n=7');
    expect(context.shape).toBeUndefined();
    // Strict mode: an undeclared assignment throws instead of making a global.
    expect(() => runInNewContext(text.replace("document.title = 'n=' + shape.n;", 'leak = 1;'), { document })).toThrow(/leak is not defined/);
    expect(existsSync(join(at, 'dist', 'demo', 'shape.js'))).toBe(false);
  });

  it('fails on a Node API or a DOM type error in a browser script', () => {
    const at = project({
      'lib/demo/browser/node.ts': "const input = document.getElementById('x');\ninput.value = process.env.HOME;\n",
    });
    const run = build(at);
    expect(run.status).not.toBe(0);
    const out = run.stdout + run.stderr;
    expect(out).toMatch(/Cannot find name 'process'/);
    expect(out).toMatch(/'input' is possibly 'null'/);
    expect(out).toMatch(/Property 'value' does not exist on type 'HTMLElement'/);
    expect(existsSync(join(at, 'dist', 'demo', 'browser', 'node.js'))).toBe(false);
  });

  it('refuses a runtime import (a page script is one inline script, nothing is loaded beside it)', () => {
    const at = project({
      'lib/demo/value.ts': 'export const n = 1;\n',
      'lib/demo/browser/imports.ts': "import { n } from '../value.js';\n\ndocument.title = String(n);\n",
    });
    const run = build(at);
    expect(run.status).not.toBe(0);
    expect(run.stdout + run.stderr).toMatch(/lib\/demo\/browser\/imports\.ts: a browser script may import types only/);
    expect(existsSync(join(at, 'dist', 'demo', 'browser', 'imports.js'))).toBe(false);
  });

  it('refuses text that would end the inline <script> early', () => {
    const at = project({ 'lib/demo/browser/close.ts': "document.title = '</script>';\n" });
    const run = build(at);
    expect(run.status).not.toBe(0);
    expect(run.stdout + run.stderr).toMatch(/cannot sit inside an inline <script>/);
  });
});
