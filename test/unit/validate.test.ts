/** Option validation messages are one line: each issue with the field it is at, never zod's multi-line rendering. */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';

import { resample } from '../../lib/audio/resample.js';
import { InvalidArgumentError } from '../../lib/errors.js';
import { parseOptions } from '../../lib/util/validate.js';

describe('parseOptions messages', () => {
  it('names each failing field in one line', () => {
    const schema = z.strictObject({ outRate: z.number().max(768_000), nested: z.object({ n: z.number().int() }) });
    let err: unknown;
    try {
      parseOptions('op', schema, { outRate: 2_000_000, nested: { n: 1.5 } });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InvalidArgumentError);
    const message = (err as Error).message;
    expect(message).not.toMatch(/\n|✖|→/);
    expect(message).toBe(
      'op: invalid options: Too big: expected number to be <=768000 (at outRate); Invalid input: expected int, received number (at nested.n)',
    );
  });

  it('holds for a public entry point (resample to 2 MHz)', async () => {
    const err = await resample(new Float32Array(8), { inRate: 44100, outRate: 2_000_000 }).catch((e: unknown) => e);
    expect((err as InvalidArgumentError).code).toBe('DE_INVALID_ARGUMENT');
    expect((err as Error).message).toBe('resample: invalid options: Too big: expected number to be <=768000 (at outRate)');
  });
});
