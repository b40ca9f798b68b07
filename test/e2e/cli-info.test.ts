import { execFileSync, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..');
const cli = join(root, 'dist', 'cli', 'main.js');
const fixture = join(root, 'test', 'fixtures', 'audio', 'pcm_24.flac');

describe('didactic-engine info', () => {
  it('prints decoded metadata as JSON', () => {
    const out = execFileSync(process.execPath, [cli, 'info', fixture, '--json'], { encoding: 'utf8' });
    const info = JSON.parse(out) as Record<string, unknown>;
    expect(info).toMatchObject({ container: 'FLAC', sampleFormat: 'PCM_24', sampleRate: 22050, channels: 2, frames: 5512 });
    expect(info.duration).toBeCloseTo(5512 / 22050, 9);
  });

  it('prints a readable summary', () => {
    const out = execFileSync(process.execPath, [cli, 'info', fixture], { encoding: 'utf8' });
    expect(out).toMatch(/container:\s+FLAC/);
    expect(out).toMatch(/sample rate:\s+22050 Hz/);
  });

  it('exits 1 with the error code for a missing file', () => {
    const result = spawnSync(process.execPath, [cli, 'info', join(root, 'nope.wav')], { encoding: 'utf8' });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('DE_FILE_NOT_FOUND');
  });
});
