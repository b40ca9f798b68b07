/**
 * A prebuilt addon that needs a newer glibc than the system's: the loader error and the install
 * script's probe must say so in words (and the install then builds from source), never pass a raw
 * dlopen error on. Simulated for real: a tiny shared object linked against a stand-in libc.so.6
 * whose only symbol is versioned GLIBC_2.99, so dlopen fails exactly as on a too-old system.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { explainAddonLoadError } from '../../lib/native/load.js';
import { probeAddon } from '../../scripts/addon-probe.mjs';
import { need, requires, which } from '../helpers/requires.js';

const root = join(import.meta.dirname, '..', '..');
const cc = which('cc') ?? '';
const needs = requires(
  need(cc !== '', 'cc not installed — apt-get install gcc'),
  need(process.platform === 'linux' && process.arch === 'x64', 'the glibc prebuild test builds a linux-x64 shared object — run on linux-x64'),
);
const dir = mkdtempSync(join(tmpdir(), 'de-glibc-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Builds <pkg>/prebuilds/linux-x64/node.napi.glibc.node needing GLIBC_2.99; returns its path. */
function tooNewPrebuild(pkg: string): string {
  writeFileSync(join(dir, 'fake.c'), 'int didactic_fake_symbol(void) { return 1; }\n');
  writeFileSync(join(dir, 'fake.map'), 'GLIBC_2.99 { global: didactic_fake_symbol; local: *; };\n');
  execFileSync(cc, [
    '-shared',
    '-fPIC',
    '-nostdlib',
    '-o',
    join(dir, 'libc.so.6'),
    join(dir, 'fake.c'),
    '-Wl,-soname,libc.so.6',
    `-Wl,--version-script=${join(dir, 'fake.map')}`,
  ]);
  writeFileSync(join(dir, 'addon.c'), 'int didactic_fake_symbol(void);\nint use(void) { return didactic_fake_symbol(); }\n');
  const out = join(pkg, 'prebuilds', 'linux-x64');
  mkdirSync(out, { recursive: true });
  const node = join(out, 'node.napi.glibc.node');
  execFileSync(cc, ['-shared', '-fPIC', '-nostdlib', '-o', node, join(dir, 'addon.c'), join(dir, 'libc.so.6')]);
  return node;
}

describe('a prebuild that needs a newer glibc', needs, () => {
  const pkg = join(dir, 'pkg');
  let node = '';
  beforeAll(() => {
    mkdirSync(pkg);
    node = tooNewPrebuild(pkg);
    symlinkSync(join(root, 'node_modules'), join(pkg, 'node_modules'));
  });

  it('fails in dlopen with the version it needs; the message names it and the way out', () => {
    let message = '';
    try {
      createRequire(import.meta.url)(node);
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/version `GLIBC_2\.99' not found/);
    const text = explainAddonLoadError(message, false, '2.31');
    expect(text).toContain('needs glibc 2.99 or newer, but this system has glibc 2.31');
    expect(text).toContain('DIDACTIC_FORCE_BUILD=1 npm rebuild didactic-engine');
    expect(text).not.toContain('not found (required by');
  });

  it('makes the install probe fall back to the source build with a one-line reason', () => {
    const probe = probeAddon(pkg);
    expect(probe.ok).toBe(false);
    if (probe.ok) return;
    expect(probe.reason).toMatch(/^the prebuilt addon needs GLIBC_2\.99, but this system has glibc \d+\.\d+$/);
  });
});

describe('other load failures', () => {
  it('no prebuild for the platform: says so and how to build', () => {
    const text = explainAddonLoadError('No native build was found for platform=linux arch=x64 runtime=node abi=115 uv=1 libc=glibc node=20.20.2', true);
    expect(text).toContain('no prebuilt native addon matches');
    expect(text).toContain('npm run build:native');
  });
  it('the install probe reports a missing prebuild in one line', () => {
    const empty = join(dir, 'empty');
    mkdirSync(empty);
    symlinkSync(join(root, 'node_modules'), join(empty, 'node_modules'));
    const probe = probeAddon(empty);
    expect(probe).toEqual({ ok: false, reason: `no prebuilt addon for ${process.platform}-${process.arch}` });
  });
});
