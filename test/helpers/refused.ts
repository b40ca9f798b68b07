/** The converters' refusals (DE_MODEL_INVALID), asserted the same way by their tests. */
import { expect } from 'vitest';

import { DidacticError } from '../../lib/errors.js';

/** Runs `fn`, which must throw a DidacticError DE_MODEL_INVALID; returns it for more checks. */
export function refused(fn: () => unknown): DidacticError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(DidacticError);
    expect((e as DidacticError).code).toBe('DE_MODEL_INVALID');
    return e as DidacticError;
  }
  throw new Error('not refused');
}
