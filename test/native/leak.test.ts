import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..');

describe('native memory', () => {
  it('1,000 decode + resample calls keep RSS bounded (test/leak/decode-resample.leak.mjs)', () => {
    const out = execFileSync(process.execPath, ['--expose-gc', join(root, 'test/leak/decode-resample.leak.mjs'), '1000'], {
      encoding: 'utf8',
    });
    const growth = Number(/growth (-?[\d.]+) MB/.exec(out)?.[1]);
    expect(Number.isFinite(growth)).toBe(true);
    expect(growth).toBeLessThan(64);
  }, 120_000);

  it('200 session and 40 Demucs open + run + close cycles keep RSS bounded (test/leak/model-handles.leak.mjs)', () => {
    const out = execFileSync(process.execPath, ['--expose-gc', join(root, 'test/leak/model-handles.leak.mjs'), '200', '40'], {
      encoding: 'utf8',
    });
    const growths = [...out.matchAll(/growth (-?[\d.]+) MB/g)].map((m) => Number(m[1]));
    expect(growths).toHaveLength(2);
    for (const growth of growths) {
      expect(Number.isFinite(growth)).toBe(true);
      expect(growth).toBeLessThan(64);
    }
    expect(out).toContain('kept 240 closed objects reachable');
  }, 240_000);
});
