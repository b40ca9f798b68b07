import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

import { addonOrigin, loadBinding } from '../../lib/native/load.js';

describe('the built addon', () => {
  it('links the codec and resampling libraries statically (no system copies)', () => {
    const { path } = addonOrigin();
    const deps = execFileSync('ldd', [path], { encoding: 'utf8' });
    for (const lib of [
      'libsndfile',
      'libsoxr',
      'libsamplerate',
      'libkissfft',
      'libFLAC',
      'libvorbis',
      'libogg',
      'libopus',
      'libmpg123',
      'libmp3lame',
      'libonnxruntime',
    ]) {
      expect(deps).not.toContain(lib);
    }
    // Nothing unresolved either.
    expect(deps).not.toContain('not found');
  });

  it('reports the vendored library versions', () => {
    const versions = loadBinding().libraryVersions();
    expect(versions.sndfile).toBe('libsndfile-1.2.0');
    expect(versions.soxr).toBe('libsoxr-0.1.3');
    expect(versions.samplerate).toMatch(/^libsamplerate-0\.2\.2/);
  });

  it('keeps the vendored symbols private', () => {
    const { path } = addonOrigin();
    const symbols = execFileSync('nm', ['-D', '--defined-only', path], { encoding: 'utf8' });
    expect(symbols).not.toMatch(/\bsf_open\b/);
    expect(symbols).not.toMatch(/\bsoxr_create\b/);
    expect(symbols).toMatch(/napi_register_module_v1/);
  });
});
