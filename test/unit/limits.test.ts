/**
 * The TypeScript bounds are the native code's numbers: read from the C++ sources (the addon does
 * not export them), so a change on one side fails here until the other follows.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { MAX_CHANNELS, MAX_FFT_SIZE, MAX_HOP, MAX_SAMPLE_RATE, MIN_SAMPLE_RATE } from '../../lib/audio/limits.js';
import { MAX_BEATS_PER_BAR, MAX_INTRA_OP_THREADS } from '../../lib/models/limits.js';

const native = join(import.meta.dirname, '..', '..', 'native', 'src');
const source = (path: string) => readFileSync(join(native, path), 'utf8');

/** The value of `inline constexpr <type> <name> = <expr>;` (a number, `1 << n` or a product). */
function constant(text: string, name: string): number {
  const m = new RegExp(`constexpr\\s+\\w+\\s+${name}\\s*=\\s*([^;]+);`).exec(text);
  if (!m) throw new Error(`${name} not found`);
  const expr = m[1]!.trim();
  const shift = /^(\d+)\s*<<\s*(\d+)$/.exec(expr);
  if (shift) return Number(shift[1]) * 2 ** Number(shift[2]);
  if (!/^[\d.\s*]+$/.test(expr)) throw new Error(`cannot read ${name} = ${expr}`);
  return expr.split('*').reduce((p, f) => p * Number(f.trim()), 1);
}

describe('bounds shared with the native code', () => {
  it('audio limits equal native/src/common/limits.h', () => {
    const limits = source('common/limits.h');
    expect(constant(limits, 'kMinSampleRate')).toBe(MIN_SAMPLE_RATE);
    expect(constant(limits, 'kMaxSampleRate')).toBe(MAX_SAMPLE_RATE);
    expect(constant(limits, 'kMaxChannels')).toBe(MAX_CHANNELS);
    expect(constant(limits, 'kMaxFftSize')).toBe(MAX_FFT_SIZE);
    expect(constant(limits, 'kMaxHop')).toBe(MAX_HOP);
  });

  it('model limits equal the session options and the rhythm decoder', () => {
    const args = source('ml/model_binding.cc');
    const threads = [...args.matchAll(/intField\(env, opts, "(intra|inter)OpThreads", op, 1, (\d+)\)/g)].map((m) => Number(m[2]));
    expect(threads).toEqual([MAX_INTRA_OP_THREADS, MAX_INTRA_OP_THREADS]);
    expect(constant(source('beat/dbn.h'), 'kMaxBeatsPerBar')).toBe(MAX_BEATS_PER_BAR);
  });
});
